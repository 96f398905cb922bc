"""The page's theme, CSS and the small browser script that makes [n] markers jump to their source."""

from __future__ import annotations

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "sans-serif")

CSS = """
.app-header h1 { margin: 0 0 4px; font-size: 1.6rem; }
.app-header .subtitle { color: var(--body-text-color-subdued); margin: 0 0 6px; }
.corpus-line { font-size: .9rem; color: var(--body-text-color-subdued); display: flex; flex-wrap: wrap;
  gap: 6px; align-items: center; }
.doc-chip { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 1px 10px;
  background: var(--block-background-fill); white-space: nowrap; max-width: 100%; overflow: hidden;
  text-overflow: ellipsis; }
.doc-chip b { color: var(--color-accent); margin-right: 2px; }
.example-row { gap: 8px !important; flex-wrap: wrap; }
.example-row button { flex: 0 1 auto !important; min-width: 0 !important; font-weight: normal; }
.example-row { align-items: center; }
#examples-label { flex: 0 0 auto !important; width: auto !important; min-width: 0 !important; }
.examples-label { font-size: .9rem; color: var(--body-text-color-subdued); white-space: nowrap; }
.badge { display: inline-block; border-radius: 4px; padding: 0 6px; margin-right: 6px; font-size: .8rem;
  line-height: 1.6; border: 1px solid transparent; white-space: nowrap; }
.badge-level { background: #e0ecff; color: #1d4ed8; }
.badge-region { background: #eef2f7; color: #334155; }
.badge-in-force { background: #dcfce7; color: #166534; }
.badge-draft { background: #fef3c7; color: #b45309; border-color: #f59e0b; font-weight: 600; }
.badge-derived { background: #f1f5f9; color: #64748b; border-color: #cbd5e1; font-weight: normal; }
.doc-number { font-size: .85rem; color: var(--body-text-color-subdued); }
.doc-number .unknown { font-style: italic; }
/* the 文件库 tab (ui/library_render.py) */
.library-summary { margin: 4px 0 8px; color: var(--body-text-color-subdued); }
.library-table { width: 100%; border-collapse: collapse; font-size: .9rem; }
.library-table th, .library-table td { border-bottom: 1px solid var(--border-color-primary); padding: 4px 8px;
  text-align: left; vertical-align: top; }
.library-table td.num { text-align: right; }
.library-table .unknown { color: var(--body-text-color-subdued); font-style: italic; }
.badge-origin-bundled { background: #eef2f7; color: #334155; }
.badge-origin-added { background: #ede9fe; color: #5b21b6; }
.badge-trial { background: #e0f2fe; color: #075985; }
.badge-repealed { background: #fee2e2; color: #991b1b; }
.lib-line { color: var(--body-text-color-subdued); }
.lib-note { font-size: .8rem; color: var(--body-text-color-subdued); }
.lib-file { margin-bottom: 6px; }
.library-readonly { padding: 8px 12px; border-left: 3px solid #f59e0b; background: #fffbeb; color: #92400e; }
.sources-empty, .viewer-empty { color: var(--body-text-color-subdued); padding: 24px 8px; text-align: center; }
.sources-empty ul.howto { text-align: left; display: inline-block; margin: 8px auto 0; line-height: 1.9;
  font-size: .9rem; }
.turn-title { font-weight: 600; margin: 4px 0; }
.turn-heading { font-size: .85rem; color: var(--body-text-color-subdued); margin-bottom: 6px; }
details.turn-sources { margin-top: 10px; border-top: 1px dashed var(--border-color-primary); padding-top: 6px; }
details.turn-sources summary { cursor: pointer; color: var(--body-text-color-subdued); }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  margin: 8px 0; background: var(--block-background-fill); scroll-margin-top: 80px; }
.source-card.is-draft { border-left: 4px solid #f59e0b; }
.source-card.flash { animation: flash 1.6s ease-out; }
@keyframes flash { 0% { box-shadow: 0 0 0 4px #60a5fa; } 100% { box-shadow: 0 0 0 0 transparent; } }
.source-head { font-weight: 600; margin-bottom: 4px; }
.source-n { color: var(--color-accent); margin-right: 4px; }
.source-meta { margin: 2px 0 4px; }
.source-where { font-size: .9rem; margin: 4px 0; }
.source-label { font-weight: 600; margin-right: 8px; }
.source-path { color: var(--body-text-color-subdued); }
blockquote.source-text { margin: 6px 0; padding: 6px 10px; border-left: 3px solid var(--border-color-primary);
  white-space: pre-wrap; font-size: .92rem; line-height: 1.7; max-height: 16em; overflow: auto; }
mark.quote, mark.focus-quote { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.source-units { font-size: .85rem; color: var(--body-text-color-subdued); }
.source-citation { font-size: .82rem; color: var(--body-text-color-subdued); margin-top: 4px;
  user-select: all; }
button.open-doc { margin-top: 6px; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 2px 10px; background: var(--button-secondary-background-fill); cursor: pointer; font-size: .85rem; }
button.open-doc:hover { border-color: var(--color-accent); }
a.cite-ref { text-decoration: none; color: var(--color-accent); font-weight: 600; cursor: pointer;
  font-size: .85em; vertical-align: super; }
table.comparison-table { border-collapse: collapse; width: 100%; margin-top: 8px; font-size: .92rem; }
table.comparison-table th, table.comparison-table td { border: 1px solid var(--border-color-primary);
  padding: 4px 8px; vertical-align: top; text-align: left; }
table.comparison-table tr.not-found td { color: var(--body-text-color-subdued); }
.notice-error { color: #b91c1c; }
.notice-info { color: var(--body-text-color-subdued); }
.filter-summary { font-size: .85rem; color: var(--body-text-color-subdued); }
.filter-summary.warn { color: #b45309; }
.doc-viewer .viewer-head h3 { margin: 0 0 4px; }
.viewer-files { font-size: .85rem; color: var(--body-text-color-subdued); }
.viewer-focus { margin-top: 4px; font-size: .9rem; }
.viewer-body { display: flex; gap: 16px; margin-top: 10px; }
.viewer-outline { flex: 0 0 260px; max-height: 72vh; overflow: auto; font-size: .88rem;
  border-right: 1px solid var(--border-color-primary); padding-right: 8px; }
.viewer-outline ul { list-style: none; padding: 0; margin: 0; }
.viewer-outline li { margin: 2px 0; }
.viewer-outline li.outline-depth-1 { padding-left: 14px; }
.viewer-outline a { text-decoration: none; color: var(--body-text-color); }
.viewer-outline a:hover { color: var(--color-accent); }
.outline-title { font-weight: 600; margin-bottom: 4px; }
.viewer-text { flex: 1 1 auto; max-height: 72vh; overflow: auto; white-space: pre-wrap; line-height: 1.8;
  font-size: .95rem; padding-right: 8px; }
mark.focus-clause { background: #dbeafe; color: inherit; border-radius: 3px; padding: 1px 0;
  box-shadow: 0 0 0 2px #93c5fd; }
.clause-anchor { scroll-margin-top: 12px; }
@media (max-width: 900px) { .viewer-body { flex-direction: column; } .viewer-outline { flex-basis: auto;
  max-height: 30vh; border-right: none; } }
/* A new answer arrives in one piece and is revealed from top to bottom, as if typed; older answers
   (no longer .latest) stay still. */
@keyframes answer-reveal { from { clip-path: inset(0 0 100% 0); } to { clip-path: inset(0 0 0 0); } }
#chat [data-testid="bot"].latest .message-content > .md > * { animation: answer-reveal .8s ease-out both; }
@media (prefers-reduced-motion: reduce) {
  #chat [data-testid="bot"].latest .message-content > .md > * { animation: none; } }
/* While a question waits or is answered, the chat shows where it stands (PAGE_JS says it in Chinese). */
#chat [data-testid="status-tracker"] .progress-text { font-family: inherit; font-size: .9rem;
  color: var(--body-text-color); background: var(--block-background-fill); opacity: .95;
  border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 2px 10px; }
"""

# Runs once when the page loads. [n] markers in answers are plain links to "#source-<turn>-<n>";
# this opens the folded turn holding the card, scrolls it into view and flashes it.
# Gradio writes its queue position ("queue: 3/12 |"), "processing |" and its queue-full refusal in
# English whatever the page's language: they are rewritten in place as Gradio updates them.
PAGE_JS = """
() => {
  const BUSY = '系统繁忙，请稍后再试。（The system is busy, please try again in a moment.）';
  const TRACKER = '[data-testid="status-tracker"]';
  const rules = [
    [TRACKER, /^queue: (\\d+)\\/(\\d+) \\|$/,
     (m) => `正在排队…第 ${m[1]} 位，共 ${m[2]} 位 |`],
    [TRACKER, /^processing \\|$/, () => '正在回答 |'],
    [TRACKER, /^\\s*([\\d.]+)\\/([\\d.]+)s$/, (m) => ` 已等 ${m[1]} 秒，预计 ${m[2]} 秒`],
    [TRACKER, /^\\s*([\\d.]+)s$/, (m) => ` ${m[1]} 秒`],
    ['[data-testid="toast-body"]', /^This application is currently busy\\. Please try again\\.\\s*$/, () => BUSY],
  ];
  const translate = (node) => {
    const text = node.nodeValue || '';
    for (const [scope, pattern, say] of rules) {
      const match = text.match(pattern);
      if (match && node.parentElement && node.parentElement.closest(scope)) { node.nodeValue = say(match); return; }
    }
  };
  const translateAll = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) translate(walker.currentNode);
  };
  const markBusy = () => {
    for (const toast of document.querySelectorAll('[data-testid="toast-body"]')) {
      if (!toast.textContent.includes(BUSY)) continue;
      const title = toast.querySelector('.toast-title');
      if (title && title.firstChild && title.firstChild.nodeValue.trim() === 'Error') title.firstChild.nodeValue = '系统繁忙 ';
      for (const badge of document.querySelectorAll('#chat [data-testid="status-tracker"] span.error')) {
        if (badge.textContent !== '系统繁忙') badge.textContent = '系统繁忙';
      }
    }
  };
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      if (mutation.type === 'characterData') translate(mutation.target);
      for (const node of mutation.addedNodes) {
        if (node.nodeType === Node.TEXT_NODE) translate(node);
        else if (node.nodeType === Node.ELEMENT_NODE) translateAll(node);
      }
    }
    markBusy();
  }).observe(document.body, {subtree: true, childList: true, characterData: true});

  document.addEventListener('click', (event) => {
    const link = event.target.closest('a.cite-ref');
    if (!link) return;
    const card = document.getElementById((link.getAttribute('href') || '').replace(/^#/, ''));
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    const folded = card.closest('details');
    if (folded) folded.open = true;
    card.scrollIntoView({block: 'center', behavior: 'smooth'});
    card.classList.remove('flash');
    void card.offsetWidth;
    card.classList.add('flash');
  }, true);
}
"""

# The sources panel: a click on 查看原文 tells the server which citation to open.
SOURCES_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.open-doc');
  if (!button) return;
  trigger('click', {turn: Number(button.dataset.turn), n: Number(button.dataset.n)});
});
"""


def theme():
    import gradio as gr

    return gr.themes.Default(
        primary_hue="blue",
        font=(gr.themes.LocalFont("Source Sans Pro", weights=(400, 600)), *CJK_FONTS),
    )
