package sandbox

import (
	"sync"

	"github.com/google/uuid"
)

// user is one created user.
type user struct {
	id         uuid.UUID
	balanceIDs []uuid.UUID    // one per entry of currencies, same order
	req        *createRequest // the request that created it, with Config.KeepRequests
}

// shardCount spreads users over independently locked maps so that many
// concurrent creates rarely wait for each other.
const shardCount = 64

type shard struct {
	mu    sync.Mutex
	users map[string]*user // by externalUserId
}

// store holds the users of one Server, keyed by externalUserId.
type store struct {
	shards [shardCount]shard
}

func newStore() *store {
	s := &store{}
	for i := range s.shards {
		s.shards[i].users = make(map[string]*user)
	}
	return s
}

// shardFor picks the shard of an externalUserId (FNV-1a, no allocation).
func (s *store) shardFor(externalID string) *shard {
	h := uint32(2166136261)
	for i := 0; i < len(externalID); i++ {
		h ^= uint32(externalID[i])
		h *= 16777619
	}
	return &s.shards[h%shardCount]
}

// insert adds u under externalID unless that id is taken; it reports
// whether it did.
func (s *store) insert(externalID string, u *user) bool {
	sh := s.shardFor(externalID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.users[externalID]; ok {
		return false
	}
	sh.users[externalID] = u
	return true
}

// get returns the user with externalID, or nil.
func (s *store) get(externalID string) *user {
	sh := s.shardFor(externalID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.users[externalID]
}

// len returns the number of users.
func (s *store) len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.users)
		sh.mu.Unlock()
	}
	return n
}

// ids returns externalUserId -> userId for every user.
func (s *store) ids() map[string]string {
	m := make(map[string]string)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for ext, u := range sh.users {
			m[ext] = u.id.String()
		}
		sh.mu.Unlock()
	}
	return m
}

// requests returns externalUserId -> the request kept for each user.
func (s *store) requests() map[string]createRequest {
	m := make(map[string]createRequest)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for ext, u := range sh.users {
			if u.req != nil {
				m[ext] = *u.req
			}
		}
		sh.mu.Unlock()
	}
	return m
}
