"""``python -m kube9_desktop.agent``: run the node agent."""

from __future__ import annotations

import sys

from kube9_desktop.agent import main

if __name__ == "__main__":
    sys.exit(main())
