"""Replies rendered as Markdown while they stream, and model output that can never run script.

The text comes from the Azure emulator (an inline scenario in the prompt), so
the page parses exactly what a model would stream, split across many deltas.
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext

from devtools.emulators.scenario import inline_prompt
from tests.web.demo_driver import LAST_ANSWER, LAST_REPLY, DemoPage

MARKDOWN = (
    "# Fruit report\n\nThe **short** version, with `inline code`:\n\n"
    "| Fruit | Count |\n| --- | ---: |\n| apples | 3 |\n| pears | 5 |\n\n"
    "```python\ndef total(counts):\n    return sum(counts)  # all fruit\n```\n\nThat is all."
)
CODE = "def total(counts):\n    return sum(counts)  # all fruit\n"

# Counts the times the answer's element is re-rendered (its children replaced) and whether a
# table or a code block was on screen before the stream ended.
WATCH_RENDERS = """() => {
  window.__renders = 0; window.__partialTable = false; window.__partialCode = false;
  new MutationObserver((records) => {
    for (const r of records) if (r.target.classList && r.target.classList.contains("text")) window.__renders++;
    const last = document.querySelector("#transcript article.assistant:last-of-type");
    if (last && last.dataset.outcome === "streaming") {
      window.__partialTable ||= !!last.querySelector(".text table");
      window.__partialCode ||= !!last.querySelector(".text pre code");
    }
  }).observe(document.getElementById("transcript"), {subtree: true, childList: true});
}"""

XSS = (
    'Look: <img src=x onerror="window.__xss = 1"> and <script>window.__xss = 2</script> '
    'and [a link](javascript:window.__xss=3) and <a href="javascript:window.__xss=4">raw</a> '
    '![pic](x" onerror="window.__xss=5) <svg onload="window.__xss=6"></svg> <iframe src="javascript:1"></iframe>'
)


def test_markdown_with_a_table_and_code_renders_while_it_streams(demo: DemoPage) -> None:
    demo.page.evaluate(WATCH_RENDERS)
    demo.send(inline_prompt(text=MARKDOWN, chunks=60, delay_ms=25))
    demo.wait_for("done")
    answer = demo.page.locator(LAST_ANSWER)
    assert answer.locator("h1").inner_text() == "Fruit report"
    assert answer.locator("strong").inner_text() == "short"
    rows = answer.locator("table tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert rows == [["apples", "3"], ["pears", "5"]]
    code = answer.locator(".code-block pre code")
    assert code.text_content() == CODE
    assert "hljs" in (code.get_attribute("class") or "") and code.locator(".hljs-keyword").count() >= 1
    assert answer.locator(".code-block .code-bar").inner_text().startswith("python")
    assert demo.page.evaluate("[window.__partialTable, window.__partialCode]") == [True, True], (
        "the table and the code block should show before the stream ends"
    )
    demo.shoot("demo-markdown")


def test_a_long_answer_is_parsed_per_frame_not_per_delta(demo: DemoPage) -> None:
    demo.page.evaluate(WATCH_RENDERS)
    text = "\n\n".join(f"Paragraph {n} with **bold** and `code`." for n in range(80))
    demo.send(inline_prompt(text=text, chunks=400))
    demo.wait_for("done")
    assert demo.page.locator(f"{LAST_ANSWER} p").count() == 80
    renders = demo.page.evaluate("window.__renders")
    assert 1 <= renders < 100, f"{renders} renders for 400 deltas: the page re-parses per delta"


def test_the_copy_button_copies_the_code_by_keyboard(demo: DemoPage, context: BrowserContext) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    demo.send(inline_prompt(text=MARKDOWN, chunks=8))
    demo.wait_for("done")
    copy = demo.page.locator(f"{LAST_REPLY} .code-block button.copy")
    assert copy.get_attribute("aria-label") == "Copy python block"
    copy.focus()
    demo.page.keyboard.press("Enter")
    demo.page.wait_for_function("(s) => document.querySelector(s).textContent === 'Copied'", arg=f"{LAST_REPLY} .copy")
    assert demo.page.evaluate("navigator.clipboard.readText()") == CODE


def test_model_output_never_runs_script(demo: DemoPage) -> None:
    dialogs: list[str] = []
    demo.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    demo.send(inline_prompt(text=XSS, chunks=30, delay_ms=10))
    demo.wait_for("done")
    answer = demo.page.locator(LAST_ANSWER)
    dangerous = answer.evaluate(
        """el => [...el.querySelectorAll('*')].filter(n =>
            ['SCRIPT', 'IFRAME', 'SVG', 'OBJECT', 'EMBED'].includes(n.tagName.toUpperCase())
            || [...n.attributes].some(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value)))
          .map(n => n.outerHTML)"""
    )
    assert dangerous == []
    text = answer.inner_text()
    assert '<img src=x onerror="window.__xss = 1">' in text, "raw HTML from the model is shown as text"
    assert "<script>window.__xss = 2</script>" in text
    link = answer.get_by_text("a link")
    assert link.count() == 1
    link.click()
    assert demo.page.evaluate("window.__xss") is None and dialogs == []
    assert demo.page.url == demo.url
    demo.shoot("demo-xss-inert")
