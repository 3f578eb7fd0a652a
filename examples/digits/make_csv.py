"""Write digits.csv: scikit-learn's copy of the UCI handwritten digits (1,797 images of 8 x 8
pixels, shipped inside the scikit-learn package) in long format, one row per image row: a
sequence of 8 steps of 8 pixel intensities, and the digit as the sequence's label.

    python examples/digits/make_csv.py
"""

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_digits


def main():
    digits = load_digits()
    rows = []
    for image_id, (image, label) in enumerate(zip(digits.images, digits.target)):
        for row, pixels in enumerate(image):
            rows.append({"image": image_id, "row": row, **{f"p{j}": float(v) for j, v in enumerate(pixels)},
                         "digit": int(label)})
    out = Path(__file__).with_name("digits.csv")
    pd.DataFrame(rows).to_csv(out, index=False)
    print(f"wrote {out}: {len(rows)} rows, {len(digits.images)} images")


if __name__ == "__main__":
    main()
