// Package p100 is the HTTP client of the P100 Partner API: create a user
// without KYC and look a user up by externalUserId.
//
// It sends the key exactly as the header "x-api-key", never follows
// redirects (Go would forward the key to the new host), verifies TLS (1.2 at
// least), refuses plain http except to loopback hosts, and reads responses
// with a size cap. Every failure is an *Error whose Class tells the caller
// whether to retry, give up on the row, or stop the whole run.
package p100
