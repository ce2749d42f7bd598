"""Does each requirement have a wheel for the image's real platform? (`check`, from a base
image's name (`target`), a requirements file (`requirements`) and a package index (`index`))."""
