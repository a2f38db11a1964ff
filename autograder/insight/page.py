"""The class insight report as one HTML file: opens in any browser, no server, the charts embedded.

Every student-written text (names, code) is escaped: an answer cell holding ``<script>`` shows as code.
"""

import base64
import html
import io

from matplotlib.figure import Figure

COLOURS = {"diagnosed": "#d62728", "unexplained": "#ff7f0e", "cell error": "#9467bd", "grading": "#7f7f7f",
           "not attempted": "#9ecae1"}
KINDS = {"diagnosed": ("已识别的错误", "recognised mistake"), "unexplained": ("未识别（按行为分组）", "unexplained, grouped by behaviour"),
         "not attempted": ("未作答", "not attempted"),
         "cell error": ("检查没有运行", "the check did not run"), "grading": ("评分中止", "grading stopped")}
STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em auto; max-width: 75em;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; } td, th { border: 1px solid #ddd; padding: .3em .6em;
       vertical-align: top; text-align: left; } th { background: #f4f4f4; } td.n { text-align: right; }
.kind { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .3em; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1em; }
pre { background: #f8f8f8; border: 1px solid #ddd; padding: .6em; overflow-x: auto; font-size: .85em; margin: .2em 0; }
.note { color: #555; } .en { color: #555; }
"""


def page(insight):
    """The whole report as one HTML document (str)."""
    data = insight.data
    parts = [f"<!DOCTYPE html>\n<html lang='zh-CN'><head><meta charset='utf-8'>"
             f"<title>班级学情报告 / Class insight report</title><style>{STYLE}</style></head><body>",
             "<h1>班级学情报告 <span class='en'>/ Class insight report</span></h1>",
             f"<p>{data['students']} 名学生，作业 / students, assignments: {_e(', '.join(data['assignments']))}. "
             f"{len(data['mistakes'])} 组错误 / mistake groups; {len(data['similar'])} 份答案待查重 / answers to "
             f"review for copying.</p>",
             "<p class='note'>错误按检查给出的诊断代码分组；没有已知诊断的错误按代码在相同输入上的输出分组。"
             "相似答案只供人工复核，不会自动判零分。<br>Mistakes are grouped by the diagnosis the check gave; failures no "
             "known mistake explains are grouped by what the code returned on the same inputs. Similar answers are "
             "for review only: never an automatic zero.</p>"]
    for assignment in data["assignments"]:
        parts += _assignment(assignment, data)
    parts += _similar(insight)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _assignment(assignment, data):
    groups = [g for g in data["mistakes"] if g["assignment"] == assignment]
    functions = [f for f in data["functions"] if f["assignment"] == assignment]
    out = [f"<h2 id='{_e(assignment)}'>{_e(assignment)}</h2>"]
    if groups:
        out.append(f"<img alt='{_e(assignment)}: students per mistake / 每种错误的学生人数' src='data:image/png;base64,"
                   f"{_chart(assignment, groups)}'>")
        out.append("<p class='note'>" + " ".join(
            f"<span class='kind' style='background:{COLOURS[kind]}'></span>{zh} / {en}" for kind, (zh, en) in KINDS.items()
            if any(g["kind"] == kind for g in groups)) + "</p>")
    out.append("<h3>每个函数 / Per function</h3><table><tr><th>函数 / function</th><th>失分人数 / lost points</th>"
               "<th>学生数 / students</th></tr>")
    out += [f"<tr><td><code>{_e(f['function'])}</code></td><td class='n'>{f['lost']}</td><td class='n'>{f['students']}</td></tr>"
            for f in functions]
    out.append("</table>")
    missing = [n for n in data["not_graded"] if n["assignment"] == assignment]
    if missing:
        out.append("<p class='note'>未评分的 notebook（不计入上表）/ notebooks not graded (not counted above): " + "; ".join(
            f"{_e(n['notebook'])} {_e(n['status'])}: {_e(', '.join(n['students']))}" for n in missing) + "</p>")
    out.append("<h3>错误分组 / Mistakes</h3>")
    if not groups:
        out.append("<p>没有人失分。/ Nobody lost points.</p>")
        return out
    out.append("<table><tr><th>人数 / students</th><th>函数 / function</th><th>诊断 / diagnosis</th>"
               "<th>说明 / description</th><th>学生 / who</th></tr>")
    for g in groups:
        zh, en = KINDS[g["kind"]]
        label = g["diagnosis"] + (f" #{g['behaviour'][:6]}" if g["behaviour"] else "")
        out.append(f"<tr><td class='n'>{len(g['students'])}</td><td><code>{_e(g['function'])}</code></td>"
                   f"<td><span class='kind' style='background:{COLOURS[g['kind']]}' title='{zh} / {en}'></span>"
                   f"<code>{_e(label)}</code></td><td>{_e(g['description'])}</td>"
                   f"<td>{_e(', '.join(g['students']))}</td></tr>")
    out.append("</table>")
    return out


def _similar(insight):
    flags = insight.data["similar"]
    out = ["<h2 id='similar'>相似答案（供复核）<span class='en'> / Similar answers (for review)</span></h2>"]
    if not flags:
        return out + ["<p>没有发现可疑的相同答案。/ No answers look copied.</p>"]
    for flag in flags:
        kind = "与参考答案相同 / same as the reference" if flag["kind"] == "reference" else "学生之间相同 / shared by students"
        out.append(f"<h3>{_e(flag['assignment'])} · <code>{_e(flag['function'])}</code> · {kind} · "
                   f"相似度 / similarity {flag['score']:.2f}</h3><p>{_e(', '.join(flag['students']))}</p>")
        shown = flag["students"][:2] if flag["kind"] == "identical" else [flag["students"][0], flag["reference"]]
        out.append("<div class='pair'>" + "".join(
            f"<div><b>{_e(who)}</b><pre>{_e(insight.sources.get((flag['assignment'], flag['function'], who), ''))}</pre></div>"
            for who in shown) + "</div>")
    return out


def _chart(assignment, groups, limit=15):
    """A horizontal bar chart of the largest groups, as base64 PNG."""
    shown = groups[:limit][::-1]
    labels = [f"{g['function']}: {g['diagnosis']}" + (f" #{g['behaviour'][:6]}" if g["behaviour"] else "") for g in shown]
    fig = Figure(figsize=(8, 0.9 + 0.38 * len(shown)), dpi=100)
    ax = fig.subplots()
    ax.barh(range(len(shown)), [len(g["students"]) for g in shown], color=[COLOURS[g["kind"]] for g in shown])
    ax.set_yticks(range(len(shown)), labels, fontsize=8)
    ax.set_xlabel("students")
    ax.set_title(f"{assignment}: students per mistake", fontsize=10)
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(text):
    return html.escape(str(text), quote=True)
