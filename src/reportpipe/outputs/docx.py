"""The draft as a 公文 (GB/T 9704-2012): A4, its type area, fonts and sizes, page numbers."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from reportpipe.outline import report_title, title_lines, width_in_characters
from reportpipe.outputs.draft import Paragraph, dated, provenance_note
from reportpipe.outputs.numbers import local_time
from reportpipe.outputs.office_zip import reproducible
from reportpipe.outputs.published import Published
from reportpipe.warehouse.publication import REPORT_DB

# GB/T 9704-2012 (党政机关公文格式): A4; a type area (版心) of 156 mm × 225 mm, 37 mm from the
# top and 28 mm from the left edge; 22 lines of 28 characters of 三号 (16 pt) type; the page
# number in 四号 (14 pt) 宋体 as "— 1 —", 7 mm below the type area, right on odd pages and left
# on even ones, one character in from the edge of the type area.
A4_MM = (210, 297)
TYPE_AREA_MM = (156, 225)
MARGIN_TOP_MM, MARGIN_LEFT_MM = 37, 28
LINES, CHARS = 22, 28
BODY_PT, TITLE_PT, PAGE_NUMBER_PT = 16, 22, 14  # 三号, 二号, 四号
PAGE_NUMBER_BELOW_MM = 7
FONTS = {"title": "方正小标宋简体", "body": "仿宋_GB2312", "part": "黑体", "section": "楷体_GB2312", "page_number": "宋体"}
LINE_PITCH_TWIPS = int(TYPE_AREA_MM[1] / 25.4 * 1440 / LINES)  # 579 (28.95 pt): rounded down, so 22 lines fit


# 28 full-width characters of 16 pt need 448 pt, the line is 442.2 pt: each character is set
# 0.25 pt closer (character spacing, in twentieths of a point, rounded down). Word's character
# grid would do the same in Word only; LibreOffice and WPS give a glyph wider than the grid two cells.
CHAR_SPACING = math.floor((TYPE_AREA_MM[0] / 25.4 * 72 / CHARS - BODY_PT) * 20)  # -5


def gongwen_style(style, font: str, size_pt: float, alignment=None, indent_chars: int = 2) -> None:
    """Set a paragraph style to one named font (Latin and Chinese alike) in black, on the fixed line pitch."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor, Twips

    rPr = style.element.get_or_add_rPr()
    for child in list(rPr):  # the default template's theme fonts, colours and bold
        rPr.remove(child)
    style.font.name = font
    fonts = rPr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)
    fonts.set(qn("w:cs"), font)
    style.font.bold = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    style.font.size = Pt(size_pt)
    if size_pt == BODY_PT:
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(CHAR_SPACING))
        rPr.find(qn("w:sz")).addprevious(spacing)
    pPr = style.element.get_or_add_pPr()
    for child in list(pPr):  # borders and spacing of the default template; a heading keeps its outline level
        if child.tag not in (qn("w:outlineLvl"), qn("w:keepNext")):
            pPr.remove(child)
    paragraph = style.paragraph_format
    paragraph.space_before = paragraph.space_after = Pt(0)
    paragraph.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.line_spacing = Twips(LINE_PITCH_TWIPS)
    paragraph.alignment = alignment
    # Set also when 0: a style based on Normal would inherit the body's 2-character indent.
    paragraph.first_line_indent = Pt(size_pt * indent_chars)
    pPr.find(qn("w:ind")).set(qn("w:firstLineChars"), str(indent_chars * 100))


def page_number(paragraph) -> None:
    """— PAGE — in 四号 宋体: the page number as a Word field."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    def run(text: str = "", field: str | None = None, instruction: str | None = None):
        r = paragraph.add_run(text)
        r.font.name = FONTS["page_number"]
        r.font.size = Pt(PAGE_NUMBER_PT)
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONTS["page_number"])
        if field:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), field)
            r._element.append(char)
        if instruction:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = instruction
            r._element.append(instr)

    run("— ")
    run(field="begin")
    run(instruction=" PAGE ")
    run(field="separate")
    run("1")
    run(field="end")
    run(" —")


def gongwen_document(pub: Published, paragraphs: list[Paragraph]):
    """A python-docx Document set up as GB/T 9704 asks: page, type area, grid, fonts, page numbers, language."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = docx.Document()
    # Word 2010 takes its styles from stylesWithEffects.xml when there is one: drop the default
    # template's (blue theme headings), and the thumbnail of the template's empty page.
    for rels, kind in ((document.part.rels, "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"),
                       (document.part.package.rels, RT.THUMBNAIL)):
        for rel_id in [i for i, rel in rels.items() if rel.reltype == kind]:
            del rels[rel_id]
    section = document.sections[0]
    section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
    section.top_margin, section.left_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_LEFT_MM)
    section.right_margin = Mm(A4_MM[0] - MARGIN_LEFT_MM - TYPE_AREA_MM[0])
    section.bottom_margin = Mm(A4_MM[1] - MARGIN_TOP_MM - TYPE_AREA_MM[1])
    section.footer_distance = Mm(A4_MM[1] - MARGIN_TOP_MM - TYPE_AREA_MM[1] - PAGE_NUMBER_BELOW_MM)
    grid = section._sectPr.find(qn("w:docGrid"))
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))

    # Defaults for every run: the body font, 三号, Chinese; no theme fonts.
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.find(qn("w:rFonts"))
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONTS["body"])
    for size in ("w:sz", "w:szCs"):
        defaults.find(qn(size)).set(qn("w:val"), str(BODY_PT * 2))
    # The text is Chinese (eastAsia zh-CN). w:val is the language of the Latin-script runs, the
    # digits: en-US there, as in Word's own Chinese template; zh-CN would let a line break inside 2079.
    for language in (defaults.find(qn("w:lang")), document.settings.element.find(qn("w:themeFontLang"))):
        language.set(qn("w:val"), "en-US")
        language.set(qn("w:eastAsia"), "zh-CN")

    gongwen_style(document.styles["Normal"], FONTS["body"], BODY_PT, WD_ALIGN_PARAGRAPH.JUSTIFY)
    gongwen_style(document.styles["Title"], FONTS["title"], TITLE_PT, WD_ALIGN_PARAGRAPH.CENTER, indent_chars=0)
    gongwen_style(document.styles["Heading 1"], FONTS["part"], BODY_PT)
    gongwen_style(document.styles["Heading 2"], FONTS["section"], BODY_PT)

    document.settings.odd_and_even_pages_header_footer = True
    for footer, alignment, side in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right_indent"),
                                    (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left_indent")):
        (number,) = footer.paragraphs
        number.alignment = alignment
        number.paragraph_format.first_line_indent = Pt(0)
        setattr(number.paragraph_format, side, Pt(PAGE_NUMBER_PT))
        page_number(number)
    return document


def title(document, pub: Published) -> None:
    """The title, centred; two lines broken between words and as even as they allow when it needs two."""
    # A character's slack: word processors space digits apart from Chinese characters.
    lines = title_lines(pub.office, pub.year, TYPE_AREA_MM[0] / 25.4 * 72 / TITLE_PT - 1)
    paragraph = document.add_paragraph(style="Title")
    for i, line in enumerate(lines):
        run = paragraph.add_run(line)
        if i < len(lines) - 1:
            run.add_break()


def signature(document, pub: Published) -> None:
    """发文机关署名 and 成文日期 under the text (GB/T 9704 7.3.5.2, without a seal): one empty line, the
    signature 2 characters from the right, the date below it starting 2 characters further right;
    a date longer than the signature keeps 2 characters to the right and moves the signature left.

    Both are set from the right, by their widths in the 公文 fonts (digits half a character): exact
    in Word and WPS, and never wrapped where another font's digits are wider."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    name, date = pub.office.signature, dated(pub)
    character = TYPE_AREA_MM[0] / 25.4 * 72 / CHARS  # one character of the body's grid, in points
    signed, date_width = width_in_characters(name), width_in_characters(date)
    right = {name: 2, date: signed - date_width} if date_width <= signed else {name: date_width + 4 - signed, date: 2}
    document.add_paragraph()
    for text in (name, date):
        paragraph = document.add_paragraph(text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.first_line_indent = Pt(0)
        paragraph.paragraph_format.right_indent = Pt(character * right[text])
        # No extra space between digits and Chinese characters: the widths above hold.
        for spacing in ("w:autoSpaceDE", "w:autoSpaceDN"):
            element = OxmlElement(spacing)
            element.set(qn("w:val"), "0")
            paragraph._p.get_or_add_pPr().append(element)


def docx_draft(pub: Published, paragraphs: list[Paragraph], path: Path) -> Path:
    """The same draft as a Word document in the form of GB/T 9704-2012, for the people who finish its prose:
    nothing in it to delete by hand (where its numbers come from is in its properties and beside it)."""
    document = gongwen_document(pub, paragraphs)
    title(document, pub)
    document.add_paragraph()  # GB/T 9704: one empty line under the title
    part = None
    for p in paragraphs:
        if p.part_heading != part:
            part = p.part_heading
            document.add_paragraph(part, style="Heading 1")
        document.add_paragraph(p.heading, style="Heading 2")
        document.add_paragraph(p.text)
    signature(document, pub)
    properties = document.core_properties
    properties.title = report_title(pub.office, pub.year)
    properties.subject = "统计数据稿"
    properties.author = properties.last_modified_by = pub.office.producer
    properties.comments = provenance_note(pub, paragraphs)
    properties.keywords = f"统计数据稿; {REPORT_DB}; {local_time(pub.published_at)}"
    properties.identifier = pub.content_sha256 or ""
    properties.language = "zh-CN"
    properties.revision = 1
    properties.created = properties.modified = pub.published_at.astimezone(dt.timezone.utc)
    document.save(path)
    return reproducible(path, pub.published_at)
