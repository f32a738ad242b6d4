# PyInstaller runtime hook (runs before main.py inside the bundle).
#
# The bootloader prepends the bundle's folder to LD_LIBRARY_PATH (keeping the user's value in
# LD_LIBRARY_PATH_ORIG). The dynamic loader read LD_LIBRARY_PATH when this process started, so
# putting the original back changes nothing for the app itself, but every program it starts
# (xdg-open and a browser, ssh for a remote DOCKER_HOST, mmdebstrap, docker credential
# helpers) gets the user's own library path instead of the bundle's Qt and OpenSSL. Agents
# are the bundle again: its bootloader adds the folder back for them.
import os

_original = os.environ.get("LD_LIBRARY_PATH_ORIG")
if _original:
    os.environ["LD_LIBRARY_PATH"] = _original
else:
    os.environ.pop("LD_LIBRARY_PATH", None)
del _original
