"""Writes the real-world-shaped CSV files of tests/real_world.rs (deterministic; run from
anywhere: python3 make_corpus.py). Each file is small and has a learnable signal."""

import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, text, newline="\n", bom=False):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
        if bom:
            f.write("\ufeff")
        f.write(text.replace("\n", newline))


def rows(n, seed):
    rng = random.Random(seed)
    for i in range(n):
        x = rng.uniform(-2, 2)
        z = rng.uniform(-2, 2)
        yield i, rng, x, z, "yes" if x + 0.5 * z > 0 else "no"


def main():
    # Semicolons and decimal commas, as spreadsheets write them in much of Europe.
    text = "f0;f1;bought\n"
    for _, _, x, z, y in rows(120, 1):
        text += f"{x:.3f};{z:.3f};{y}\n".replace(".", ",")
    write("eu_semicolon.csv", text)

    # Pipe-delimited, with a text column.
    text = "x|shade|z|label\n"
    for _, rng, x, z, y in rows(120, 2):
        text += f"{x:.3f}|{rng.choice(['light', 'dark'])}|{z:.3f}|{y}\n"
    write("pipe.csv", text)

    # Missing-value tokens in numeric and text features and in the target.
    text = "x,colour,z,label\n"
    tokens = ["", "NA", "N/A", "?", "null", "-", "NaN"]
    for i, rng, x, z, y in rows(150, 3):
        xs = f"{x:.3f}" if i % 7 else tokens[i % len(tokens)]
        colour = rng.choice(["red", "blue"]) if i % 5 else tokens[i % len(tokens)]
        zs = f"{z:.3f}" if i % 11 else "NA"
        label = y if i % 13 else "NA"
        text += f"{xs},{colour},{zs},{label}\n"
    write("na_tokens.csv", text)

    # An ID, a row counter, a date, a boolean, a 1,000-category column.
    text = "customer,row,signup,member,zip,x,z,label\n"
    for i, rng, x, z, y in rows(1500, 4):
        member = "TRUE" if (x > 0) == (i % 3 == 0) else "FALSE"
        signup = f"2021-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
        text += f"c{rng.randrange(10**9)},{i + 1},{signup},{member},z{i % 1000},{x:.3f},{z:.3f},{y}\n"
    write("roles.csv", text)

    # A spreadsheet export: byte-order mark, CRLF line ends, quoted fields with commas and
    # line breaks.
    text = '"name","x","z","note","label"\n'
    for i, _, x, z, y in rows(100, 5):
        note = '"a ""quoted"" note, with a comma"' if i % 4 == 0 else '"two\nlines"'
        text += f'"Smith, {i}",{x:.3f},{z:.3f},{note},{y}\n'
    write("excel.csv", text, newline="\r\n", bom=True)

    # A predict file for roles.csv's model: reordered, an extra column, no target.
    text = "extra,z,x,zip,member,signup,customer,row\n"
    for i, rng, x, z, _ in rows(10, 6):
        text += f"e{i},{z:.3f},{x:.3f},z{i},FALSE,2022-03-0{i % 9 + 1},k{i},{i + 1}\n"
    write("roles_predict.csv", text)


if __name__ == "__main__":
    main()
