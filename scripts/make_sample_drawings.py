"""Write the drawings `python -m mia_core plant --digits` reads, in assets/drawings/ (deterministic: pen paths from
mia_core.handwriting, fixed seeds):

- sample.npz: twenty stroke-drawn digits, 0-9 twice; the first ten planted, the other ten kept out;
- even_odd.npz: twenty, even digits planted and odd ones kept out, each drawn by two hands.

    python -m scripts.make_sample_drawings
"""

from pathlib import Path

import numpy as np

from mia_core.handwriting import even_odd_drawings, sample_drawings

OUT = Path(__file__).resolve().parent.parent / "assets" / "drawings"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, drawings in (("sample.npz", sample_drawings(planted=10, kept_out=10)), ("even_odd.npz", even_odd_drawings())):
        np.savez_compressed(OUT / name, **drawings)
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
