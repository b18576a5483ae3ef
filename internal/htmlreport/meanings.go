package htmlreport

import "strings"

// advice is what an error code means and what to do about it.
type advice struct{ Meaning, Action string }

// adviceFor explains an error code as the README's troubleshooting table
// does (docs/p100-api.md has P100's side).
func adviceFor(code string) advice {
	switch code {
	case "INVALID":
		return advice{"Refused by the importer before sending: a required field is missing or a value breaks a field rule (format, check digit, country code).",
			"Run importer validate --input FILE to see each problem with its line and column; fix the rows (the --report file holds them) and run again with the same checkpoint."}
	case "P403":
		return advice{"P100's validation refused the row (the failure report's error_message says why).",
			"Fix the row in the failure report and feed it back as --input; it is not sent again until its content changes."}
	case "P412":
		return advice{"P100 answered that the user is invalid or unknown.",
			"Check the row's externalUserId and content; ask P100 if it persists."}
	case "P500":
		return advice{"An unknown exception on P100's side; the retries did not get past it.",
			"Run again later with the same checkpoint: failed rows are sent again."}
	case "P501":
		return advice{"P100's service was temporarily unavailable; the retries did not get past it.",
			"Run again later with the same checkpoint: failed rows are sent again."}
	case "429":
		return advice{"Too many requests: P100 kept throttling after the retries.",
			"Run again with a lower --rate (or --rate auto); failed rows are sent again."}
	case "TIMEOUT":
		return advice{"No answer within --timeout.",
			"Run again: a create that did succeed then answers P411 and counts as exists, never a duplicate."}
	case "NETWORK":
		return advice{"The connection failed (refused, reset, DNS).",
			"Check the network, proxy and --base-url, then run again: failed rows are sent again."}
	case "BAD_RESPONSE":
		return advice{"An answer the importer could not read.",
			"Run again; if it persists, check --base-url and any proxy between the machine and P100."}
	case "REDIRECT":
		return advice{"The API answered with a redirect, never followed (it would carry the key elsewhere).",
			"Check --base-url: P100's are https://partner-api.p100.io and https://partner-api-stage.p100.io, without a path."}
	case "TLS":
		return advice{"The server's certificate did not verify.",
			"Check --base-url and any TLS-intercepting proxy."}
	case OtherCode:
		return advice{"Error codes beyond the ones listed apart, or an answer whose code is not one.",
			"See the failure report (--report) or importer export --state failed,rejected for each row's code and message."}
	case "-":
		return advice{"Not imported without an error code (the run stopped while the row was being retried).",
			"Run again with the same checkpoint."}
	}
	if s, ok := strings.CutPrefix(code, "HTTP_"); ok && strings.HasPrefix(s, "5") {
		return advice{"P100 or a gateway in front of it answered HTTP " + s + "; the retries did not get past it.",
			"Run again later with the same checkpoint: failed rows are sent again."}
	}
	if strings.HasPrefix(code, "P") {
		return advice{"A P100 error code the importer does not know.",
			"See the failure report's error_message for the row, and ask P100 what the code means."}
	}
	return advice{"An error the importer does not describe.",
		"See the failure report (--report) for each row's message."}
}
