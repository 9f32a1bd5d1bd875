"""The upload page's message catalogue: German first, English through the language switch.

``expect.<field>`` says what a column should hold: the "what would be right" of the error report.
"""

from __future__ import annotations

from wegweiser.common.web.messages import FRAME, Catalogue

PAGES: dict[str, tuple[str, str]] = {
    "app.name": ("Wegweiser – Zuweisungen", "Wegweiser – Allocations"),
    "nav.upload": ("Datei hochladen", "Upload a file"),
    "role.reception_authority": ("Untere Aufnahmebehörde", "Reception authority"),
    "role.admin": ("Administration", "Administrator"),
    # upload form
    "upload.title": ("Zuweisungen hochladen", "Upload allocations"),
    "upload.intro": (
        "Laden Sie die Liste der zugewiesenen Haushalte als CSV- oder Excel-Datei (XLSX) hoch: eine Zeile "
        "je Person, die erste Zeile mit den Spaltenüberschriften. Die Datei wird vollständig geprüft, "
        "bevor etwas importiert wird.",
        "Upload the list of allocated households as a CSV or Excel (XLSX) file: one row per person, the "
        "first row with the column headings. The whole file is checked before anything is imported.",
    ),
    "upload.template_title": ("Vorlage", "Template"),
    "upload.template_text": (
        "Die Vorlage enthält alle Spaltenüberschriften und eine Beispielzeile.",
        "The template holds every column heading and one example row.",
    ),
    "upload.template_xlsx": ("Vorlage herunterladen (Excel)", "Download the template (Excel)"),
    "upload.template_csv": ("Vorlage herunterladen (CSV)", "Download the template (CSV)"),
    "upload.file": ("Datei (CSV oder Excel)", "File (CSV or Excel)"),
    "upload.file_hint": (
        "Höchstens {mb} MB. Haushalte mit mehreren Personen: gleiche Haushaltsnummer, Rolle je Person.",
        "At most {mb} MB. Households of several persons: the same household number, a role per person.",
    ),
    "upload.submit": ("Datei prüfen und importieren", "Check and import the file"),
    "upload.nothing_on_error": (
        "Enthält die Datei Fehler, wird nichts importiert: Sie erhalten einen Fehlerbericht und "
        "entscheiden dann selbst.",
        "If the file has errors, nothing is imported: you get an error report and decide what to do.",
    ),
    "upload.twice": (
        "Eine Datei zweimal hochzuladen legt nichts doppelt an: Haushalte mit bekanntem Aktenzeichen "
        "werden nicht neu angelegt.",
        "Uploading a file twice creates nothing twice: households with a known reference are not "
        "created again.",
    ),
    "upload.busy": ("Die Datei wird hochgeladen und geprüft …", "The file is being uploaded and checked …"),
    "upload.progress": ("Fortschritt", "Progress"),
    "upload.no_file": ("Bitte wählen Sie eine Datei aus.", "Please choose a file."),
    "upload.wrong_type": (
        "Die Datei ist weder CSV noch Excel (XLSX).",
        "The file is neither CSV nor Excel (XLSX).",
    ),
    "upload.too_large": ("Die Datei ist größer als {mb} MB.", "The file is larger than {mb} MB."),
    "upload.no_rows": ("Die Datei enthält keine Zeilen.", "The file has no rows."),
    "upload.quota": (
        "Das Kontingent Ihrer Behörde ist ausgeschöpft; bitte versuchen Sie es in {s} Sekunden erneut.",
        "Your authority's quota is exhausted; please try again in {s} seconds.",
    ),
    "upload.no_authority": (
        "Ihre Anmeldung nennt keine Aufnahmebehörde; Sie dürfen keine Zuweisungen hochladen.",
        "Your sign-in names no reception authority; you may not upload allocations.",
    ),
    # report
    "report.title": ("Fehlerbericht: {name}", "Error report: {name}"),
    "report.summary": (
        "{errors} Fehler in {rows} von {total} Zeilen; nichts wurde importiert.",
        "{errors} errors in {rows} of {total} rows; nothing was imported.",
    ),
    "report.more": ("… und {n} weitere (siehe Tabelle)", "… and {n} more (see the table)"),
    "report.caption": ("Fehler je Zeile", "Errors by row"),
    "report.row": ("Zeile", "Row"),
    "report.column": ("Spalte", "Column"),
    "report.wrong": ("Was ist falsch", "What is wrong"),
    "report.right": ("Was wäre richtig", "What would be right"),
    "report.entry": ("Zeile {row}, {column}: {message}", "Row {row}, {column}: {message}"),
    "report.whole_file": ("ganze Datei", "whole file"),
    "report.next_title": ("Wie weiter?", "What next?"),
    "report.download": (
        "Fehlerhafte Zeilen herunterladen ({n} von {total} Zeilen)",
        "Download the failed rows ({n} of {total} rows)",
    ),
    "report.download_hint": (
        "Die Datei enthält die fehlerhaften Zeilen mit einer Spalte „Fehler“. Korrigieren Sie sie und "
        "laden Sie die Datei erneut hoch; die Spalte „Fehler“ wird dabei nicht gelesen.",
        'The file holds the failed rows with a column "Errors". Correct them and upload the file again; '
        'the column "Errors" is not read.',
    ),
    "report.import_valid": (
        "Nur die gültigen Zeilen importieren ({rows} von {total} Zeilen, Haushalte: {households})",
        "Import only the valid rows ({rows} of {total} rows, households: {households})",
    ),
    "report.import_valid_hint": (
        "Ein Haushalt mit einem Fehler in einer seiner Zeilen wird ganz zurückgehalten.",
        "A household with an error in any of its rows is held back as a whole.",
    ),
    "report.no_valid": (
        "Keine Zeile ist fehlerfrei; es gibt nichts zu importieren.",
        "No row is free of errors; there is nothing to import.",
    ),
    "report.again": ("Andere Datei hochladen", "Upload another file"),
    # import
    "import.title.completed": ("Import abgeschlossen", "Import completed"),
    "import.title.running": ("Import läuft", "Import running"),
    "import.title.failed": ("Import fehlgeschlagen", "Import failed"),
    "import.rows": ("{done} von {total} Zeilen", "{done} of {total} rows"),
    "import.counts": (
        "{created} Zuweisungen neu angelegt, {existing} waren schon vorhanden und wurden nicht doppelt "
        "angelegt.",
        "{created} allocations created, {existing} already existed and were not created twice.",
    ),
    "import.running": (
        "Die Datei wird importiert. Diese Seite zeigt den Fortschritt; Sie können sie verlassen.",
        "The file is being imported. This page shows the progress; you may leave it.",
    ),
    "import.failed": ("Der Import wurde abgebrochen: {error}", "The import was stopped: {error}"),
    "import.caption": ("Zuweisungen aus dieser Datei", "Allocations from this file"),
    "import.reference": ("Aktenzeichen", "Reference"),
    "import.persons": ("Personen", "Persons"),
    "import.municipality": ("Zielgemeinde", "Municipality"),
    "import.date": ("Zuweisungsdatum", "Allocation date"),
    "import.id": ("Kennung", "Id"),
    "import.again": ("Weitere Datei hochladen", "Upload another file"),
    "not_found": ("Nicht gefunden", "Not found"),
    # what would be right, per column
    "expect.authority_reference": (
        "Ein Aktenzeichen je Haushalt, z. B. UAB-2026-0001",
        "One reference per household, e.g. UAB-2026-0001",
    ),
    "expect.household": (
        "Gleiche Haushaltsnummer für alle Personen eines Haushalts, z. B. H1",
        "The same household number for every person of a household, e.g. H1",
    ),
    "expect.role": (
        "Haushaltsvorstand, Partner, Kind oder Sonstige; genau ein Haushaltsvorstand je Haushalt",
        "Haushaltsvorstand (head), Partner, Kind (child) or Sonstige (other); exactly one head per household",
    ),
    "expect.family_name": (
        "Familienname wie im Ausweis, z. B. Haddad",
        "Family name as in the ID, e.g. Haddad",
    ),
    "expect.given_names": ("Vornamen wie im Ausweis, z. B. Rania", "Given names as in the ID, e.g. Rania"),
    "expect.family_name_latin": ("Familienname in lateinischer Schrift", "Family name in Latin script"),
    "expect.given_names_latin": ("Vornamen in lateinischer Schrift", "Given names in Latin script"),
    "expect.date_of_birth": (
        "TT.MM.JJJJ, MM.JJJJ oder JJJJ, nicht in der Zukunft, z. B. 17.04.1988",
        "DD.MM.YYYY, MM.YYYY or YYYY, not in the future, e.g. 17.04.1988",
    ),
    "expect.sex": ("w, m, d oder u", "w (female), m (male), d (diverse) or u (unknown)"),
    "expect.nationalities": (
        "Ländercodes nach ISO 3166-1, z. B. SY, UA",
        "ISO 3166-1 country codes, e.g. SY, UA",
    ),
    "expect.languages": ("Sprachcodes nach ISO 639, z. B. ar, uk", "ISO 639 language codes, e.g. ar, uk"),
    "expect.residence_status": (
        "Asylbewerber, anerkannt, subsidiär, §24, Duldung oder sonstige",
        "Asylbewerber, anerkannt, subsidiär, §24, Duldung or sonstige",
    ),
    "expect.ags": (
        "Achtstelliger Gemeindeschlüssel einer Gemeinde, die Ihre Behörde zuweisen darf, z. B. 08111000",
        "The 8-digit key of a municipality your authority may allocate to, e.g. 08111000",
    ),
    "expect.allocation_date": (
        "TT.MM.JJJJ, nicht in der Zukunft, z. B. {example}",
        "DD.MM.YYYY, not in the future, e.g. {example}",
    ),
    "expect.facility": (
        "Name der Einrichtung, z. B. LEA Ellwangen",
        "Name of the facility, e.g. LEA Ellwangen",
    ),
    "expect.phone": ("Telefonnummer, z. B. +49 711 5550100", "Phone number, e.g. +49 711 5550100"),
    "expect.email": ("E-Mail-Adresse, z. B. name@example.org", "E-mail address, e.g. name@example.org"),
    "expect.file": (
        "Eine CSV- oder XLSX-Datei nach der Vorlage",
        "A CSV or XLSX file following the template",
    ),
}

CATALOGUE = Catalogue(FRAME, PAGES)
t = CATALOGUE.t
