"""Write the drawings `python -m mia_core plant --digits` reads, in assets/drawings/ (deterministic: pen paths from
mia_core.drawing.handwriting, fixed seeds):

- sample.npz: twenty stroke-drawn digits, 0-9 twice, each by its own hand; the first ten planted, the other ten
  kept out: the same digits on both sides, as a fair plant needs;
- sample_40.npz: forty, 0-9 four times; twenty planted, twenty kept out: a narrower coin-flip band;
- even_odd.npz: a confound to show, not a test: even digits planted and odd ones kept out, each drawn by two
  hands; its baseline (the same drawings on a target that trained on none) is already away from 0.5.

    python -m scripts.make_sample_drawings
"""

from pathlib import Path

import numpy as np

from mia_core.drawing.handwriting import even_odd_drawings, sample_drawings

OUT = Path(__file__).resolve().parent.parent / "assets" / "drawings"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, drawings in (("sample.npz", sample_drawings(planted=10, kept_out=10)),
                           ("sample_40.npz", sample_drawings(planted=20, kept_out=20)),
                           ("even_odd.npz", even_odd_drawings())):
        np.savez_compressed(OUT / name, **drawings)
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
