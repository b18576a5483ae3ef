package sandbox

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
)

// network is one entry of a balance's networkConfig, shaped like the
// documented example.
type network struct {
	Mainnet    bool       `json:"mainnet"`
	Name       string     `json:"name"`
	Withdrawal withdrawal `json:"withdrawal"`
	Deposit    deposit    `json:"deposit"`
}

type withdrawal struct {
	FeeWithdrawal float64 `json:"feeWithdrawal"`
	MinWithdrawal float64 `json:"minWithdrawal"`
}

type deposit struct {
	MinDeposit float64 `json:"minDeposit"`
}

// currency is one balance every new user gets.
type currency struct {
	name     string
	amount   string // zero, with the currency's number of decimals
	rate     float64
	networks map[string]network // nil for fiat
}

// currencies lists the balances of a new user, in the order and with the
// values of the documented example (a staging environment: test networks).
// It is read only.
var currencies = []currency{
	{name: "eth", amount: "0.00000000", rate: 3160.21051755, networks: map[string]network{
		"ethereum": {Name: "sepolia", Withdrawal: withdrawal{0.003, 0.0006}, Deposit: deposit{0}},
	}},
	{name: "usdc", amount: "0.000000", rate: 0.856822, networks: map[string]network{
		"ethereum": {Name: "sepolia", Withdrawal: withdrawal{10, 1}, Deposit: deposit{5}},
		"polygon":  {Name: "amoy", Withdrawal: withdrawal{0.5, 2}, Deposit: deposit{0}},
	}},
	{name: "eur", amount: "0.00", rate: 1},
	{name: "ltc", amount: "0.00000000", rate: 103.62980236, networks: map[string]network{
		"ltc": {Name: "test", Withdrawal: withdrawal{0.002, 0.001}, Deposit: deposit{0}},
	}},
	{name: "btc", amount: "0.00000000", rate: 98318.40634648, networks: map[string]network{
		"btc": {Name: "test", Withdrawal: withdrawal{0.0003, 0.000001}, Deposit: deposit{0}},
	}},
	{name: "doge", amount: "0.00000000", rate: 0.17648657, networks: map[string]network{
		"doge": {Name: "test", Withdrawal: withdrawal{5, 0.01}, Deposit: deposit{0}},
	}},
	{name: "pol", amount: "0.00000000", rate: 0.2028634, networks: map[string]network{
		"polygon": {Name: "amoy", Withdrawal: withdrawal{0.001, 0.00005}, Deposit: deposit{0}},
	}},
}

// balanceTemplates holds every balance pre-rendered as JSON around its id:
// a balance is `{"id":"` + id + tails[i]. Rendering a response is then a
// handful of appends, with no reflection per request.
type balanceTemplates struct {
	tails [][]byte
	size  int // length of all balances of one user, ids and commas included
}

const balanceHead = `{"id":"`

func newBalanceTemplates(cs []currency) (balanceTemplates, error) {
	var t balanceTemplates
	for _, c := range cs {
		tail, err := renderBalanceTail(c)
		if err != nil {
			return balanceTemplates{}, fmt.Errorf("render balance %s: %w", c.name, err)
		}
		t.tails = append(t.tails, tail)
		t.size += len(balanceHead) + 36 + len(tail) + 1
	}
	return t, nil
}

func renderBalanceTail(c currency) ([]byte, error) {
	amount, err := json.Marshal(c.amount)
	if err != nil {
		return nil, fmt.Errorf("amount: %w", err)
	}
	name, err := json.Marshal(c.name)
	if err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	rate, err := json.Marshal(c.rate)
	if err != nil {
		return nil, fmt.Errorf("rate: %w", err)
	}
	b := []byte(`","amount":`)
	b = append(b, amount...)
	b = append(b, `,"name":`...)
	b = append(b, name...)
	b = append(b, `,"wallet":null,"rate":`...)
	b = append(b, rate...)
	if c.networks != nil {
		nc, err := json.Marshal(c.networks) // map keys come out sorted
		if err != nil {
			return nil, fmt.Errorf("networkConfig: %w", err)
		}
		b = append(b, `,"networkConfig":`...)
		b = append(b, nc...)
	}
	return append(b, '}'), nil
}

// appendBalances appends the JSON array of a user's balances.
func (t balanceTemplates) appendBalances(b []byte, ids []uuid.UUID) []byte {
	b = append(b, '[')
	for i, tail := range t.tails {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, balanceHead...)
		b = appendUUID(b, ids[i])
		b = append(b, tail...)
	}
	return append(b, ']')
}

// appendUUID appends u in its canonical 36-character form.
func appendUUID(b []byte, u uuid.UUID) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:])
	return append(b, buf[:]...)
}
