-- What the HTML report of a run draws besides its summary (the run over
-- time, the first lines of each error code, the importer's version and the
-- API's host), as JSON: `importer status --html` regenerates the report
-- later. No personal data.
ALTER TABLE runs ADD COLUMN report TEXT;
