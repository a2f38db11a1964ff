"""What a check says when student code raised (the stub not replaced yet, or the exception and where) or
changed its arguments.

Needs nothing but the messages: the student kit's visible checks ship this module as it is.
"""

import traceback

from . import _messages as msg


def raised(name, error, details):
    """The diagnosis for student code that raised ``error``: the stub not replaced yet, or the exception and the case."""
    if isinstance(error, NotImplementedError):
        return msg.not_implemented(name)
    return msg.raised(exception_text(error), details)


def exception_text(error):
    """'ValueError: ...' and the last line of student code it came from."""
    text = f"{type(error).__name__}: {error}"
    if len(text) > 300:
        text = text[:300] + "..."
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if "site-packages" not in f.filename and "/numpy/" not in f.filename
              and "autograder" not in f.filename]
    if frames:
        text += f" [{frames[-1].line}]" if frames[-1].line else ""
    return text


def mutated(arg):
    return msg.Diagnosis(
        "mutates_input",
        f"你的函数修改了传入的参数 {arg}（例如 z[z < 0] = 0、+= 或 -= 等原地操作），本题记 0 分：调用者的数据不应被改变。"
        f"请先复制（{arg} = {arg}.copy()），或改用返回新数组的写法（如 np.maximum(z, 0)、g = g - alpha * grad）。",
        f"your function changed its argument {arg} (an in-place operation such as z[z < 0] = 0, += or -=), "
        f"so it scores 0: the caller's data must stay as it was. Copy first ({arg} = {arg}.copy()) or use "
        f"operations that return a new array (np.maximum(z, 0), g = g - alpha * grad).",
    )
