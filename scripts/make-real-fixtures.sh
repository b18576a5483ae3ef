#!/usr/bin/env bash
# make-real-fixtures.sh regenerates internal/ingest/testdata/real/: spreadsheet
# files written by real programs (LibreOffice Calc headless, openpyxl) from the
# hand-written expected.csv, the oracle every fixture is compared with.
#
# Needs Debian's libreoffice-calc-nogui and python3-openpyxl:
#   apt-get install -y --no-install-recommends libreoffice-calc-nogui python3-openpyxl
#
# Idempotent: every run rewrites the same files from expected.csv. The
# spreadsheet containers carry LibreOffice's timestamps, so a rerun changes
# their bytes but not their cells.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/internal/ingest/testdata/real
src=$out/expected.csv
py=/usr/bin/python3 # Debian's python, the one python3-openpyxl installs into

command -v soffice >/dev/null || { echo "make-real-fixtures: soffice not found; apt-get install -y --no-install-recommends libreoffice-calc-nogui" >&2; exit 1; }
"$py" -c 'import openpyxl' 2>/dev/null || { echo "make-real-fixtures: openpyxl not found for $py; apt-get install -y --no-install-recommends python3-openpyxl" >&2; exit 1; }
[ -f "$src" ] || { echo "make-real-fixtures: $src is missing (it is hand-written, not generated)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# lo runs LibreOffice headless with a private profile (no clash with a
# desktop session or a parallel run). It converts into its own directory,
# since LibreOffice names the output after the input.
lo() {
	if ! soffice -env:UserInstallation="file://$work/profile" --headless --norestore "$@" >"$work/lo.log" 2>&1; then
		cat "$work/lo.log" >&2
		exit 1
	fi
}

# LibreOffice's CSV filter options, token by token: field separator(s) as
# character codes (44 ",", 59 ";"), text delimiter (34 "), character set as
# an rtl_TextEncoding number, first line, per-column formats, language (0 =
# default), quote all text (export) / quoted field as text (import), detect
# special numbers (import), save cell contents as shown (export), export
# formulas, remove spaces. The character set must be a number: LibreOffice
# reads names other than "UTF-8"/"ANSI"/"MAC"/"IBMPC..." as "the system's",
# which here is UTF-8. Numbers from LibreOffice's rtl/textenc.h, checked
# with iconv below.
cs_1252=1 cs_iso88592=13 cs_cp852=25 cs_1250=33 cs_utf8=76
# Import the way a person opening the UTF-8 file does: comma, ", UTF-8,
# from line 1, everything else LibreOffice's default (standard column type:
# PESEL and externalUserId become numbers, ISO dates become date cells).
import_csv='CSV:44,34,76,1'
csv_export() { # csv_export SEPARATOR CHARSET
	echo "csv:Text - txt - csv (StarCalc):$1,34,$2,1,,0,false,true,true,false,false"
}

# subset IDS... > FILE: the rows of expected.csv with those externalUserIds.
subset() {
	"$py" - "$src" "$@" <<'EOF'
import csv, sys
src, ids = sys.argv[1], set(sys.argv[2:])
with open(src, newline='', encoding='utf-8') as f:
    rows = list(csv.reader(f))
w = csv.writer(sys.stdout, lineterminator='\n')
w.writerow(rows[0])
w.writerows(r for r in rows[1:] if r[0] in ids)
EOF
}

# --- expected subsets ---------------------------------------------------
# Polish and German users only: the French letters è, ê, ï are missing from
# windows-1250, ISO-8859-2 and CP852, where LibreOffice writes "?" for them.
subset 100001 100002 100003 100004 100005 100007 100009 100011 100012 >"$out/expected-pl.csv"
# German and French users only (windows-1252 has no ł, ż, ś, ę, ą...).
subset 100006 100007 100008 100010 100011 >"$out/expected-de.csv"

# --- xlsx written by LibreOffice ------------------------------------------
# libreoffice-pl.xlsx: the CSV opened with the default import, saved as xlsx.
cp "$src" "$work/libreoffice-pl.csv"
lo --infilter="$import_csv" --convert-to 'xlsx:Calc MS Excel 2007 XML' --outdir "$work/pl" "$work/libreoffice-pl.csv"
cp "$work/pl/libreoffice-pl.xlsx" "$out/"

# libreoffice-title-row.xlsx: a title line and an empty line above the header.
{ printf 'Eksport klientów 2026-11-30\n\n'; cat "$src"; } >"$work/libreoffice-title-row.csv"
lo --infilter="$import_csv" --convert-to 'xlsx:Calc MS Excel 2007 XML' --outdir "$work/title" "$work/libreoffice-title-row.csv"
cp "$work/title/libreoffice-title-row.xlsx" "$out/"

# libreoffice-two-sheets.xlsx: openpyxl adds a first sheet "Info" of notes to
# libreoffice-pl.xlsx and renames the users' sheet "Klienci"; LibreOffice
# then opens that workbook and saves it, so the file is LibreOffice's.
"$py" - "$work/pl/libreoffice-pl.xlsx" "$work/libreoffice-two-sheets.xlsx" <<'EOF'
import datetime, sys
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
wb.worksheets[0].title = 'Klienci'
info = wb.create_sheet('Info', 0)
info['A1'] = 'Eksport z systemu CRM'
info['A2'] = 'Data eksportu:'
info['B2'] = datetime.date(2026, 11, 30)
info['B2'].number_format = 'yyyy-mm-dd'
info['A3'] = 'Liczba klientów:'
info['B3'] = 12
info['A5'] = 'Dane osobowe: przetwarzać zgodnie z RODO.'
wb.active = 0
wb.save(sys.argv[2])
EOF
lo --convert-to 'xlsx:Calc MS Excel 2007 XML' --outdir "$work/two" "$work/libreoffice-two-sheets.xlsx"
cp "$work/two/libreoffice-two-sheets.xlsx" "$out/"

# --- xlsx written by openpyxl ---------------------------------------------
"$py" - "$src" "$out/openpyxl-dates.xlsx" <<'EOF'
import csv, datetime, sys
import openpyxl
from openpyxl.styles import Alignment
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    rows = list(csv.reader(f))
header, users = rows[0], rows[1:]
col = {name: i for i, name in enumerate(header)}
wb = openpyxl.Workbook()
ws = wb.active
ws.title = 'Użytkownicy'
ws.append(header)
# Date formats in turn: two custom ones (Polish and US style), Excel's
# built-in short date (numFmtId 14, written as mm-dd-yy) and ISO.
formats = ['dd.mm.yyyy', 'm/d/yyyy', 'mm-dd-yy', 'yyyy-mm-dd']
for i, u in enumerate(users):
    r = i + 2
    for j, v in enumerate(u):
        ws.cell(row=r, column=j + 1, value=v if v != '' else None)
    ws.cell(row=r, column=col['externalUserId'] + 1, value=int(u[col['externalUserId']]))  # a number cell
    pesel = u[col['pesel']]
    if pesel:
        if i % 2 == 0:
            ws.cell(row=r, column=col['pesel'] + 1, value=int(pesel))  # a number: leading zero lost
        else:
            ws.cell(row=r, column=col['pesel'] + 1, value=pesel)  # a text cell: zero kept
    d = datetime.date.fromisoformat(u[col['birthDate']])
    if i == 3:
        d = datetime.datetime(d.year, d.month, d.day)  # a datetime at midnight
    c = ws.cell(row=r, column=col['birthDate'] + 1, value=d)
    c.number_format = formats[i % len(formats)]
    if u[col['externalUserId']] == '100002':
        # Alt+Enter in Excel: a line break inside the cell, shown wrapped.
        c = ws.cell(row=r, column=col['address'] + 1, value=u[col['address']].replace(' m. ', '\nm. '))
        c.alignment = Alignment(wrap_text=True)
wb.save(sys.argv[2])
EOF

# --- CSV exports by LibreOffice -------------------------------------------
# export NAME SEPARATOR CHARSET SOURCE: open SOURCE (UTF-8 CSV) with the
# default import and save it as CSV.
export_csv() {
	cp "$4" "$work/$1.csv"
	lo --infilter="$import_csv" --convert-to "$(csv_export "$2" "$3")" --outdir "$work/$1" "$work/$1.csv"
	cp "$work/$1/$1.csv" "$out/$1.csv"
}
export_csv libreoffice-windows1250-semicolon 59 $cs_1250 "$out/expected-pl.csv"
export_csv libreoffice-windows1252 44 $cs_1252 "$out/expected-de.csv"
export_csv libreoffice-utf8 44 $cs_utf8 "$src"
export_csv libreoffice-iso88592 44 $cs_iso88592 "$out/expected-pl.csv"
export_csv libreoffice-cp852 44 $cs_cp852 "$out/expected-pl.csv"

# --- formats the importer must name and refuse ------------------------------
lo --convert-to 'ods:calc8' --outdir "$work/ods" "$work/pl/libreoffice-pl.xlsx"
cp "$work/ods/libreoffice-pl.ods" "$out/libreoffice-ods.ods"
lo --convert-to 'xls:MS Excel 97' --outdir "$work/xls" "$work/pl/libreoffice-pl.xlsx"
cp "$work/xls/libreoffice-pl.xls" "$out/libreoffice-legacy.xls"
# A web panel's "Excel" download: an HTML table under a .xls name.
lo --convert-to 'html:HTML (StarCalc)' --outdir "$work/html" "$work/pl/libreoffice-pl.xlsx"
cp "$work/html/libreoffice-pl.html" "$out/libreoffice-html.xls"

# --- checks -------------------------------------------------------------------
fail() { echo "make-real-fixtures: $*" >&2; exit 1; }
# Each CSV decodes, with iconv, to its oracle once the ";" is a "," and the
# PESEL zeros LibreOffice dropped are put back: the charset numbers are right.
check_csv() { # check_csv FILE ICONV-CHARSET SEPARATOR ORACLE
	iconv -f "$2" -t UTF-8 "$out/$1" >"$work/check.csv" || fail "$1 is not $2"
	"$py" - "$work/check.csv" "$3" "$out/$4" <<'EOF' || fail "$1 does not match $4 (decoded as $2)"
import csv, sys
got_path, sep, want_path = sys.argv[1], sys.argv[2], sys.argv[3]
with open(got_path, newline='', encoding='utf-8') as f:
    got = list(csv.reader(f, delimiter=sep))
with open(want_path, newline='', encoding='utf-8') as f:
    want = list(csv.reader(f))
p = want[0].index('pesel')
lost = 0
for row in got[1:]:
    if row[p] and len(row[p]) < 11:
        row[p] = row[p].zfill(11)
        lost += 1
if got != want:
    for g, w in zip(got, want):
        if g != w:
            print('got ', g, '\nwant', w, file=sys.stderr)
    sys.exit(1)
if lost == 0:
    print('expected PESELs without their leading zeros', file=sys.stderr)
    sys.exit(1)
EOF
}
check_csv libreoffice-windows1250-semicolon.csv WINDOWS-1250 ';' expected-pl.csv
check_csv libreoffice-windows1252.csv WINDOWS-1252 ',' expected-de.csv
check_csv libreoffice-utf8.csv UTF-8 ',' expected.csv
check_csv libreoffice-iso88592.csv ISO-8859-2 ',' expected-pl.csv
check_csv libreoffice-cp852.csv CP852 ',' expected-pl.csv
# The windows-1250 and ISO-8859-2 files must differ (ś, ą, ź are where the
# two disagree), or one of the charset numbers is wrong.
cmp -s <(tr ';' ',' <"$out/libreoffice-windows1250-semicolon.csv") "$out/libreoffice-iso88592.csv" && fail "windows-1250 and ISO-8859-2 exports are identical"

# The xlsx files hold what the README says: PESEL as number cells, birthDate
# as date cells.
"$py" - "$out" <<'EOF' || fail "an xlsx fixture does not hold the expected cell types"
import datetime, sys
import openpyxl
out = sys.argv[1]
def users(path, sheet, header_row):
    ws = openpyxl.load_workbook(f'{out}/{path}')[sheet]
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    head = list(rows[0])
    return head, rows[1:]
for path, sheet, header_row in [('libreoffice-pl.xlsx', 'libreoffice-pl', 1),
                                ('libreoffice-title-row.xlsx', 'libreoffice-title-row', 3),
                                ('libreoffice-two-sheets.xlsx', 'Klienci', 1),
                                ('openpyxl-dates.xlsx', 'Użytkownicy', 1)]:
    head, rows = users(path, sheet, header_row)
    assert head[0] == 'externalUserId', (path, head)
    p, b = head.index('pesel'), head.index('birthDate')
    assert len(rows) == 12, (path, len(rows))
    assert any(isinstance(r[p], int) for r in rows), (path, 'no PESEL number cell')
    assert all(isinstance(r[b], datetime.datetime) for r in rows), (path, 'birthDate not all date cells')
    assert all(isinstance(r[0], int) for r in rows), (path, 'externalUserId not all number cells')
wb = openpyxl.load_workbook(f'{out}/libreoffice-two-sheets.xlsx')
assert wb.sheetnames == ['Info', 'Klienci'], wb.sheetnames
EOF

file "$out"/libreoffice-* "$out"/openpyxl-* | sed "s|$out/||"
echo "make-real-fixtures: wrote $(ls "$out" | wc -l) files in ${out#"$root"/}"
