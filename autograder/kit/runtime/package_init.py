"""The visible checks of this assignment, for the student kit: ``check_<name>(function, globals())``.

They judge your function on the visible cases against expected values recorded when the kit was built
(``visible_cases.json``) and print the same messages the grader prints for them. The kit holds no
reference implementation: where the grader needs one to name a mistake, the message says that more
is checked at grading. The hidden tests run only at grading, with the grader's own checks.

本作业的可见测试：用构建学生包时记录下来的期望值判断你的函数，给出与评分程序相同的提示。
学生包里没有参考实现；隐藏测试只在评分时运行。
"""

import json
import pathlib
import warnings

import numpy as np

from . import codec
from ._engine import KitCheck

_DATA = json.loads(pathlib.Path(__file__).with_name("visible_cases.json").read_text(encoding="utf-8"))
_CALLS = {}
for _call in codec.decode(_DATA["calls"]):
    _CALLS.setdefault(_call["name"], []).append(_call)


def _check(name):
    def check(fn, namespace=None, *, hidden=False, seed=None, **options):
        if hidden or seed is not None:
            raise ValueError("学生包里没有隐藏测试：隐藏测试只在评分时运行。\n"
                             "the student kit has no hidden tests: they run only at grading.")
        given = dict(_DATA["defaults"].get(name, {}), **options)
        for call in _CALLS[name]:
            if dict(_DATA["defaults"].get(name, {}), **call["options"]) == given:
                break
        else:
            known = ", ".join(str(c["options"]) for c in _CALLS[name])
            raise ValueError(f"学生包只记录了 notebook 里的可见测试：{name} 的选项 {options} 没有记录（有的是 {known}）。\n"
                             f"the kit records the notebook's visible tests only: {name} with {options} is not among "
                             f"them ({known}).")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return KitCheck(call)(fn, namespace)
    check.__name__ = check.__qualname__ = f"check_{name}"
    check.__doc__ = f"The visible check of ``{name}``: prints a line when it passes, raises AssertionError when not."
    return check


for _name in _CALLS:
    globals()[f"check_{_name}"] = _check(_name)

__all__ = sorted(f"check_{n}" for n in _CALLS)
