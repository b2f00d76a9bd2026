package job

import (
	"encoding/binary"
	"hash/fnv"
)

// Sort keys are byte strings whose bytewise order is the order of the values
// they were built from, field by field, so that shards can be sorted and
// merged without decoding rows. A key is built by appending fields in order.

// AppendString appends s so that keys compare as s does, even when s is a
// prefix of another string or holds zero bytes: each 0x00 becomes 0x00 0xFF
// and the field ends with 0x00 0x01.
func AppendString(key []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		key = append(key, s[i])
		if s[i] == 0 {
			key = append(key, 0xFF)
		}
	}
	return append(key, 0, 1)
}

// AppendInt appends n as 8 big-endian bytes with the sign bit flipped, so
// negative numbers sort before positive ones.
func AppendInt(key []byte, n int64) []byte {
	return binary.BigEndian.AppendUint64(key, uint64(n)^(1<<63))
}

// ShardOf returns the shard, in [0, shards), that the group key belongs to:
// FNV-1a of the key, the same in every process and on every platform, so
// that a retried bundle sends a key to the same shard.
func ShardOf(groupKey string, shards int) int {
	h := fnv.New64a()
	h.Write([]byte(groupKey))
	return int(h.Sum64() % uint64(shards))
}
