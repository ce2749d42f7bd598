"""A `docker save` stream -> what every layer holds, dive's efficiency, size groups,
findings. No Docker here: callers pass the stream."""
