// Package sandbox is a local stand-in for the P100 Partner API, used by the
// demo, the tests and the benchmarks of p100-importer.
//
// A Server answers the two endpoints the importer talks to,
// POST /v1/user/balances/crypto (create a user without KYC) and
// GET /v1/user/balances/{externalUserId} (look a user up), with the status
// codes and JSON bodies of P100's documentation: 201 with the user's id and
// balances, 400 with errorCode P403, P411, P412, P500 or P501, 401 for a
// missing or wrong x-api-key, 429 above the rate limit.
//
// It can be told to misbehave: a fixed latency, a token-bucket rate limit,
// and fault dice (P501, P500, connections reset before or after the user is
// created, slow answers that outlast a client's timeout) drawn from a seeded
// source. The fault rates can be changed at run time with SetFaults or
// PUT /_sandbox/faults, and GET /_sandbox/stats and GET /_sandbox/users let
// tests check what the server really did.
//
// Users live in memory only; a Server forgets them when it is dropped.
package sandbox
