#!/usr/bin/env python3
"""The messages the man pages and docs/diagnostics.md quote are messages tcptrace prints.

Each message a page quotes (a bold "tcptrace...: ..." text, as .B, .BI or .RB set it)
must be printed by some format string of cmd/ or lib/: the page's placeholders (italic
words, roman words between bold parts, "...") stand for the format's conversions, and
every word of four letters or more must be among the sources' own words. A message
reworded in the code, or in a page alone, fails here with both sides named.

Usage: man_messages.py SOURCE_DIR (exit 0 when all match, 1 with one line per mismatch).
"""
import functools
import os
import pathlib
import re
import sys

PLACEHOLDER = "\x00"
PROGRAM_NAMES = ("tcptrace connect", "tcptrace accept", "tcptrace features", "tcpconnect",
                 "tcpconnlat", "tcpaccept", "tcptrace")


def roff_text(text):
    """A roff argument as it renders: the escapes the pages use, undone."""
    for escape, plain in (("\\(aq", "'"), ("\\(dq", '"'), ("\\-", "-"), ("\\e", "\\"),
                          ("\\&", ""), ("\\ ", " "), ("\\fB", ""), ("\\fR", ""),
                          ("\\fI", "")):
        text = text.replace(escape, plain)
    return text


def roff_arguments(line):
    """The arguments of a macro line: quoted ones, or words."""
    return [match.group(1) if match.group(1) is not None else match.group(2)
            for match in re.finditer(r'"([^"]*)"|(\S+)', line)]


def quoted_message(macro, arguments):
    """The message a .B, .BI or .RB line sets, placeholders marked; None for none."""
    parts = []
    for index, argument in enumerate(arguments):
        if argument == "\\(lq" or argument.startswith("\\(rq"):
            continue
        if macro == "B":
            bold = True
        elif macro == "BI":
            bold = index % 2 == 0
        else:  # RB: roman first
            bold = index % 2 == 1
        parts.append(roff_text(argument) if bold else PLACEHOLDER)
    text = "".join(parts).replace("...", PLACEHOLDER)
    if not text.startswith(PROGRAM_NAMES) or ": " not in text:
        return None
    # A program's name and a bare prefix ("tcptrace: attached") are no message.
    if not re.search(r": \S+ \S+", text.replace(PLACEHOLDER, "X")):
        return None
    return text


def page_messages(page):
    for number, line in enumerate(page.read_text().splitlines(), 1):
        match = re.match(r"\.(B|BI|RB) (.*)", line)
        if not match:
            continue
        message = quoted_message(match.group(1), roff_arguments(match.group(2)))
        if message:
            yield number, message


# The words docs/diagnostics.md writes in capitals for what a message prints in their place.
DOC_PLACEHOLDERS = ("PROGRAM", "VALUE", "ERROR", "N", "TOTAL", "COMMAND", "METHOD", "NEXT",
                    "PROG", "SECTION", "STEP", "EVENT", "WHAT", "CAP", "OPTION", "RELEASE",
                    "MACHINE")


def doc_message(text):
    """A code span of the document as a message, placeholders marked; None for none."""
    text = text.strip()
    for word in DOC_PLACEHOLDERS:
        text = re.sub(r"\b%s\b" % word, PLACEHOLDER, text)
    text = text.replace("...", PLACEHOLDER)
    if not text.startswith("tcptrace: ") or not re.search(r": \S+ \S+", text):
        return None
    return text


def doc_messages(doc):
    """The messages docs/diagnostics.md quotes: code spans and fenced lines that begin
    with "tcptrace: ", and the usage errors' table, whose messages go without it."""
    fenced, usage_table = False, False
    for number, line in enumerate(doc.read_text().splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if line.startswith("#"):
            usage_table = line == "## Usage errors"
        if fenced:
            spans = [line]
        elif usage_table and line.startswith("| ") and line.count("|") >= 4:
            cell = line.split("|")[2]
            spans = ["tcptrace: " + span for span in re.findall(r"`([^`]+)`", cell)]
        else:
            spans = re.findall(r"`([^`]+)`", line)
        for span in spans:
            message = doc_message(span)
            if message:
                yield number, message


def string_macros(source_dir):
    """#define NAME "text": what such a name stands for between literals."""
    macros = {}
    for path in sorted(source_dir.glob("lib/*.h")) + sorted(source_dir.glob("cmd/*.h")):
        for name, value in re.findall(r'#define\s+(\w+)\s+("[^"\n]*")\s*$', path.read_text(),
                                      re.M):
            macros[name] = value
    return macros


def c_formats(source_dir):
    """Every string a C file of cmd/ or lib/ holds, adjacent literals joined."""
    formats = []
    macros = string_macros(source_dir)
    for path in sorted(source_dir.glob("cmd/*.c")) + sorted(source_dir.glob("lib/*.c")):
        text = path.read_text()
        for name, value in macros.items():
            text = re.sub(r"\b%s\b" % name, value, text)
        for run in re.finditer(r'"(?:[^"\\\n]|\\.)*"(?:\s*"(?:[^"\\\n]|\\.)*")*', text):
            pieces = re.findall(r'"((?:[^"\\\n]|\\.)*)"', run.group(0))
            formats.append("".join(pieces).encode().decode("unicode_escape"))
    return formats


def format_pattern(fmt):
    """A printf format as a pattern: its text, each conversion a PLACEHOLDER."""
    pattern = re.sub(r"%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t)?[a-zA-Z]", PLACEHOLDER, fmt)
    return pattern.replace("%%", "%").rstrip("\n")


def overlap(a, b):
    """Can the quote a be printed by the format b? b's placeholders stand for any text,
    the quote's own among it. A quote's placeholder stands for what the program fills in:
    nothing, or a stretch of the format that holds a conversion and no letter or digit
    ("%s:%s" for EVENT). Else a quote with a placeholder would fit any format with a few
    conversions, its words taken for the format's placeholder and the other way round."""
    @functools.lru_cache(maxsize=None)
    def fits(i, j, absorbing, took):
        # absorbing: 0, or a[i] is a quote's placeholder that took format text so far,
        # 1 without a conversion among it, 2 with one. took: b[j] is a conversion that
        # took quote text, and so cannot also be part of a quote's placeholder.
        if absorbing:
            if absorbing == 2 and fits(i + 1, j, 0, False):
                return True
            return (j < len(b) and not b[j].isalnum() and
                    fits(i, j + 1, 2 if b[j] == PLACEHOLDER else absorbing, False))
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == PLACEHOLDER:
            if fits(i + 1, j, 0, took):
                return True
            if (j < len(b) and not took and not b[j].isalnum() and
                    fits(i, j + 1, 2 if b[j] == PLACEHOLDER else 1, False)):
                return True
        if j < len(b) and b[j] == PLACEHOLDER:
            if fits(i, j + 1, 0, False) or (i < len(a) and fits(i + 1, j, 0, True)):
                return True
        return (i < len(a) and j < len(b) and a[i] == b[j] and
                fits(i + 1, j + 1, 0, False))

    return fits(0, 0, 0, False)


def overlap_worth(text, pattern):
    """Patterns whose start could meet the text's: the rest is too slow to try."""
    head = min(4, len(text), len(pattern))
    return (PLACEHOLDER in text[:head] or PLACEHOLDER in pattern[:head] or
            text[:head] == pattern[:head])


def candidates(message):
    """The message whole, and without the program name cli_bad_usage() or notice() add."""
    yield message
    for name in PROGRAM_NAMES:
        if message.startswith(name + ": "):
            yield message[len(name) + 2:]


def main():
    source_dir = pathlib.Path(sys.argv[1])
    formats = c_formats(source_dir)
    # A format of conversions and a name ("%s: %s", "tcptrace %s") would match any
    # message: only those with words of their own.
    patterns = [format_pattern(fmt) for fmt in formats
                if len(re.sub(r"%[-+ #0-9.*]*[a-zA-Z%]|\W|^tcptrace", "", fmt)) >= 6]
    # What strerror() adds after a format's last %s is the C library's; program and
    # section names are the BPF object's; the links' names, the command table's.
    errors = " ".join(os.strerror(number) for number in range(1, 134))
    bpf = " ".join(path.read_text() for path in sorted(source_dir.glob("bpf/*.[ch]")) +
                   sorted(source_dir.glob("*/*.def")))
    # A probe's name joins its row's first two fields: PROBE(accept, accepted, ...).
    probes = " ".join(f"{command}_{probe}" for command, probe in
                      re.findall(r"^PROBE\((\w+), (\w+),", bpf, re.MULTILINE))
    words = set(re.findall(r"[A-Za-z_]{4,}",
                           " ".join(formats) + " " + errors + " " + bpf + " " + probes))
    checked, failures = 0, 0
    pages = sorted(source_dir.glob("man/*.8")) + sorted(source_dir.glob("man/*.roff"))
    diagnostics = source_dir / "docs" / "diagnostics.md"
    quotes = [(page, page_messages(page)) for page in pages]
    if diagnostics.exists():
        quotes.append((diagnostics, doc_messages(diagnostics)))
    for page, messages in quotes:
        for number, message in messages:
            checked += 1
            shown = message.replace(PLACEHOLDER, "...")
            # A quote that ends with its colon stands for the start of the message.
            if message.endswith(":"):
                message += " " + PLACEHOLDER
            if not any(overlap(text, pattern) for text in candidates(message)
                       for pattern in patterns if overlap_worth(text, pattern)):
                print(f"FAIL: {page.name}:{number}: no format prints '{shown}'")
                failures += 1
                continue
            # A value the user gave, quoted in the message, is the page's example.
            own = re.sub(r"'[^']*'", "", message)
            unknown = [w for w in re.findall(r"[A-Za-z_]{4,}", own) if w not in words]
            if unknown:
                print(f"FAIL: {page.name}:{number}: '{shown}': not in the sources: "
                      + ", ".join(unknown))
                failures += 1
    print(f"man_messages: {checked} quoted messages, {failures} not printed as quoted")
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
