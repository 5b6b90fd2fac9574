"""Write assets/drawings/sample.npz: twenty stroke-drawn digits (0-9 twice, ten to plant, ten to keep out), as
`python -m mia_core plant --digits` reads them. Deterministic: pen paths from mia_core.handwriting, fixed seeds.

    python -m scripts.make_sample_drawings
"""

from pathlib import Path

import numpy as np

from mia_core.handwriting import sample_drawings

OUT = Path(__file__).resolve().parent.parent / "assets" / "drawings" / "sample.npz"


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **sample_drawings(planted=10, kept_out=10))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
