import os

from greeter.server import serve

serve(int(os.environ.get("PORT", "8080")))
