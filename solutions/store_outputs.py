"""Re-run the solution notebooks and store only the outputs that the nbval regression test compares.

    python solutions/store_outputs.py                      # all four
    python solutions/store_outputs.py solutions/01_relu_network/01_relu_network.ipynb

Run it after editing a solution notebook, then review the diff. It executes
each notebook top to bottom in its own folder (as nbval and nbgrader do), and
then, cell by cell:

* keeps the text outputs of the cells nbval compares (predictions, rounded
  losses, test messages), without their display metadata;
* empties the outputs of cells tagged ``nbval-ignore-output`` (figures,
  timings): nbval does not compare them, and images stay out of git;
* numbers every code cell 1, 2, 3, ... (nbval never compares a cell whose
  execution count is empty) and drops execution timings and other
  per-run metadata; the notebook metadata keeps only the kernel's name.

It refuses to store a notebook whose compared cells write to stderr (a
warning) or show an image: tag such a cell, or fix it.
"""

import pathlib
import sys

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent
IGNORE_TAGS = {"nbval-ignore-output", "nbval-skip"}
KEEP_CELL_METADATA = {"nbgrader", "tags", "editable", "deletable"}
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def solution_notebooks():
    """The course's solution notebooks, ``solutions/<id>/<id>.ipynb``, in order."""
    return sorted(p for p in HERE.glob("*/*.ipynb") if p.stem == p.parent.name)


def ignored(cell):
    """Does nbval skip comparing this cell's output?"""
    return bool(IGNORE_TAGS & set(cell.metadata.get("tags", [])))


def clean_output(output, where):
    """An output as stored: text only, no metadata; raise on what nbval should not compare."""
    if output.output_type == "stream":
        if output.name == "stderr":
            raise ValueError(f"{where} writes to stderr:\n{output.text}\nFix the warning or tag the cell.")
        return output
    if output.output_type == "error":
        raise ValueError(f"{where} raised {output.ename}: {output.evalue}")
    if "image/png" in output.get("data", {}):
        raise ValueError(f"{where} shows a figure: tag the cell nbval-ignore-output.")
    output.metadata = {}
    output.data = {key: value for key, value in output.data.items() if key == "text/plain"}
    return output


def normalise(nb, name):
    """Keep the compared outputs, number the code cells and drop per-run metadata, in place."""
    count = 0
    for i, cell in enumerate(nb.cells):
        cell.metadata = {key: value for key, value in cell.metadata.items() if key in KEEP_CELL_METADATA}
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        if ignored(cell):
            cell.outputs = []
            continue
        outputs = [clean_output(out, f"{name}, cell {i}") for out in cell.outputs]
        for out in outputs:
            if out.output_type == "execute_result":
                out.execution_count = count
        cell.outputs = outputs
    nb.metadata = nbformat.from_dict(NOTEBOOK_METADATA)
    return nb


def store(path):
    """Execute one notebook and write it back with its compared outputs."""
    path = pathlib.Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(normalise(nb, path.name), path)
    print(f"stored {path.relative_to(HERE.parent)}")


def main(argv):
    for path in argv or solution_notebooks():
        store(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
