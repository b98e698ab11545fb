"""``image_folder``: a folder of class subfolders as a fast dmzoo datamodule."""
