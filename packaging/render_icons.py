"""Render the app icon (SVG) into the hicolor PNG sizes, with Qt's own SVG renderer.

    python packaging/render_icons.py resources/kube9-desktop.svg OUT_DIR 16 32 48 ...

writes OUT_DIR/<n>x<n>/apps/kube9-desktop.png for each size and copies the SVG to
OUT_DIR/scalable/apps/. Needs only PySide6 (already in the build venv), no display.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    svg, out, sizes = Path(argv[0]), Path(argv[1]), [int(n) for n in argv[2:]]
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication([sys.argv[0]])  # noqa: F841 (needed for painting)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        print(f"{svg}: not a valid SVG", file=sys.stderr)
        return 1
    name = svg.stem
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        target = out / f"{size}x{size}" / "apps" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target), "PNG"):
            print(f"cannot write {target}", file=sys.stderr)
            return 1
    scalable = out / "scalable" / "apps" / svg.name
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    print(f"icons: {', '.join(str(s) for s in sizes)} px and scalable")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
