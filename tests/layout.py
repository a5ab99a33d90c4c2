"""Layout checks for the browser tests: what a person would see go wrong on a small screen.

- `overflow(page)`: how far the page is wider than the window (0: no sideways scrolling);
- `scrolling_boxes(page, selector)`: the boxes matching `selector` whose content scrolls sideways;
- `url_lines(page, selector)`: a `breakable_url` element's text as the lines it is drawn on;
- `select_shortfall(page, selector)`: how much narrower a select is than its longest option needs.
"""

from __future__ import annotations

from playwright.sync_api import Page

#: The characters after which a URL may sensibly wrap (besides right after its origin).
URL_BREAK_AFTER = "/?&#"


def overflow(page: Page) -> int:
    """`document.documentElement.scrollWidth - window.innerWidth`, at most 0 when nothing sticks out."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def scrolling_boxes(page: Page, selector: str) -> list[tuple[int, int]]:
    """(scrollWidth, clientWidth) of every `selector` box whose content is wider than the box."""
    found = page.eval_on_selector_all(
        selector, "boxes => boxes.map(box => [box.scrollWidth, box.clientWidth])")
    return [(scroll, client) for scroll, client in found if scroll > client]


#: Each character of the element's text with the top of the line it is drawn on.
_CHAR_TOPS = """element => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const chars = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rects = range.getClientRects();
      if (rects.length) chars.push([node.data[i], rects[0].top]);
    }
  }
  return chars;
}"""


def url_lines(page: Page, selector: str) -> list[str]:
    """The text of the element at `selector`, cut where the browser wrapped it."""
    chars = page.eval_on_selector(selector, _CHAR_TOPS)
    lines: list[str] = []
    last_top: float | None = None
    for char, top in chars:
        if last_top is None or top > last_top + 2:  # a new line (a few px of baseline jitter are not one)
            lines.append("")
            last_top = top
        lines[-1] += char
    return lines


def origin_lines(page: Page, selector: str) -> int:
    """On how many lines the `.url-origin` (scheme and host) inside `selector` is drawn."""
    return len(url_lines(page, f"{selector} .url-origin"))


def bad_url_breaks(lines: list[str], origin: str) -> list[str]:
    """The lines of a wrapped URL that end somewhere other than after its origin or a `/ ? & #`."""
    ends, text = [], ""
    for line in lines[:-1]:
        text += line
        if text != origin and not line.endswith(tuple(URL_BREAK_AFTER)):
            ends.append(line)
    return ends


#: The width the select needs to show its longest option whole (a copy sized by the browser, off screen).
_SELECT_SHORTFALL = """select => {
  const copy = select.cloneNode(true);
  copy.removeAttribute("id");
  copy.style.cssText = "position: absolute; left: 0; top: 0; width: auto; max-width: none; visibility: hidden;";
  select.parentElement.appendChild(copy);
  const needed = copy.getBoundingClientRect().width;
  copy.remove();
  return needed - select.getBoundingClientRect().width;
}"""


def select_shortfall(page: Page, selector: str) -> float:
    """How many px narrower the select is than the width its longest option needs (<= 0: all of it shows)."""
    return float(page.eval_on_selector(selector, _SELECT_SHORTFALL))
