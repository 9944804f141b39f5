"""`lfd kb serve` in headless chromium: upload a docx and a pdf, ask what only they say, see the 出处; plain chat."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "plugin" / "commands"))
from board_process import browser_page, console_script, free_port, needs_chromium, running_board  # noqa: E402

SERVE = ROOT / "recipes" / "pharma_lora_serve.yaml"
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
DOCX_TEXT = ["第八条　无菌药品的除菌过滤器使用前后应当进行完整性测试。", "第九条　灭菌柜应当定期验证。"]
PDF_TEXT = "气体过滤器出现气体过滤不畅的问题，通常是因为疏水性滤膜被水汽润湿，应当加热或更换滤芯。"
QUESTION = "为什么气体过滤器会出现气体过滤不畅的问题？"


def write_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    for paragraph in DOCX_TEXT:
        document.add_paragraph(paragraph)
    document.save(path)
    return path


def write_pdf(path: Path) -> Path:
    from fpdf import FPDF

    if not CJK_FONT.is_file():
        pytest.fail(f"no CJK font at {CJK_FONT}: apt-get install fonts-wqy-microhei (.ci/run installs it)")
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("wqy", "", str(CJK_FONT))
    pdf.set_font("wqy", size=12)
    pdf.multi_cell(0, 8, PDF_TEXT)
    pdf.output(str(path))
    return path


@needs_chromium
def test_upload_ask_see_sources_and_chat(tmp_path, tiny_model, tiny_adapter):
    from llamafactory_domains.plugin.cli import main
    from playwright.sync_api import expect

    home = tmp_path / "kb-home"
    assert main(["kb", "build", "regs", str(ROOT / "data" / "samples" / "pharma" / "kb"), "--kb-home", str(home)]) == 0
    uploads = [write_docx(tmp_path / "无菌药品.docx"), write_pdf(tmp_path / "除菌过滤技术及应用指南.pdf")]
    port, log = free_port(), tmp_path / "serve.log"
    command = [console_script("lfd"), "kb", "serve", "--recipe", str(SERVE), f"model_name_or_path={tiny_model}",
               f"adapter_name_or_path={tiny_adapter}", "max_new_tokens=8", "--kb-home", str(home), "--port", str(port)]
    with running_board(command, ROOT, {"CUDA_VISIBLE_DEVICES": ""}, log, port, timeout=240) as url, \
            browser_page("kb_serve_failure.png") as page:
        page.goto(url)
        expect(page.locator("#kb input")).to_have_value("regs")
        page.locator("#files input[type=file]").set_input_files([str(p) for p in uploads])
        page.locator("#chunk input").fill("100")
        page.locator("#add").click()
        expect(page.locator("#status")).to_contain_text("added 2", timeout=60000)
        expect(page.locator("#status")).to_contain_text("7 documents")

        page.locator("#question textarea").fill(QUESTION)
        page.locator("#question textarea").press("Enter")
        bot = page.locator("#chat .bot")
        expect(bot.last).to_contain_text("出处 [1] 除菌过滤技术及应用指南.pdf", timeout=90000)
        summary = bot.last.locator("summary").first
        summary.click()
        expect(bot.last.locator("details").first).to_contain_text("疏水性滤膜")
        page.screenshot(path=str(tmp_path / "kb_serve.png"), full_page=True)

        page.locator("#mode label", has_text="LLM 对话").click()
        answered = bot.count()
        page.locator("#question textarea").fill("你好")
        page.locator("#question textarea").press("Enter")
        expect(bot).to_have_count(answered + 1, timeout=90000)
        expect(bot.last).not_to_contain_text("出处")
    assert (home / "regs" / "content" / "无菌药品.docx").is_file()
