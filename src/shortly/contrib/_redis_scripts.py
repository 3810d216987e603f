"""The Lua scripts of the Redis lock backend, and the keys they use.

Every change to a lock is one script, so Redis runs it atomically. A held lock is one
key, ``{prefix}held:{name}``, whose value is ``"{token}:{nonce}"`` and whose expiry is
the lease. The nonce is chosen per *attempt* by the client, so an attempt that is sent
again after a lost reply recognises its own hold instead of orphaning it.

**Minting a fencing token** (``_MINT``): the token is the largest of the last token plus
one, the server's clock in microseconds (``TIME``), and the largest token the calling
backend has seen plus one. The counter alone would repeat tokens after a restart that
brings back an older counter (an RDB snapshot, the last second of an AOF with
``everysec``) or none (no persistence); the clock makes the first token after such a
restart larger than any token issued before it, as long as the server's clock did not
step back. A counter that is missing starts a new *epoch*, which tells holders that
Redis lost their lock.

Lua numbers are doubles: clock tokens (about 1.8e15 today) stay exact up to 2**53,
about the year 2255. ``string.format('%d')`` prints them without an exponent.
"""

from __future__ import annotations

__all__ = ["ABANDON", "ACQUIRE", "ACQUIRE_FAIR", "BREAK", "EXTEND", "RELEASE"]

# KEYS[2]: fence counter, KEYS[3]: epoch; ARGV[3]: token floor. Leaves the token in `text`.
_MINT = """
local now = redis.call('TIME')
local token = tonumber(now[1]) * 1000000 + tonumber(now[2])
local last = redis.call('GET', KEYS[2])
if last then
  token = math.max(token, tonumber(last) + 1)
end
token = math.max(token, tonumber(ARGV[3]) + 1)
local text = string.format('%d', token)
if not last then
  redis.call('SET', KEYS[3], text)
end
redis.call('SET', KEYS[2], text)
"""

# KEYS[1]: lock, KEYS[4]: tombstone of this nonce; ARGV[1]: nonce, ARGV[2]: lease in ms.
# An abandoned attempt (tombstone) never acquires; an attempt that already holds the
# lock (its reply was lost) gets its own hold back, with the lease renewed.
# The replies are single integers, the cheapest to send and parse: the token if
# acquired, else -2 minus the ms left on the holder's lease (-1: unknown, so -1).
_OWN = """
if redis.call('EXISTS', KEYS[4]) == 1 then
  return -1
end
local held = redis.call('GET', KEYS[1])
if held then
  local at = string.find(held, ':', 1, true)
  if string.sub(held, at + 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(held, 1, at - 1))
  end
end
"""

_GRANT = """
redis.call('SET', KEYS[1], text .. ':' .. ARGV[1], 'PX', ARGV[2])
return token
"""

# KEYS: lock, fence, epoch, tombstone. ARGV: nonce, lease ms, floor.
ACQUIRE = (
    _OWN
    + """
if held then
  return -2 - redis.call('PTTL', KEYS[1])
end
"""
    + _MINT
    + _GRANT
)

# KEYS: lock, fence, epoch, tombstone, queue (list of nonces), places (zset: nonce ->
# server ms until which its place is kept). ARGV: nonce, lease ms, floor, join ('1': a
# waiter, which takes a place in the queue; '0': a try, which never does), place ms.
# The lock goes to the head of the queue only; a waiter that stops refreshing its
# place (a crashed process) is dropped when it reaches the head.
ACQUIRE_FAIR = (
    _OWN
    + """
local clock = redis.call('TIME')
local ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
while true do
  local first = redis.call('LINDEX', KEYS[5], 0)
  if not first then break end
  local due = redis.call('ZSCORE', KEYS[6], first)
  if due and tonumber(due) > ms then break end
  redis.call('LPOP', KEYS[5])
  redis.call('ZREM', KEYS[6], first)
end
local head = redis.call('LINDEX', KEYS[5], 0)
if held or (head and head ~= ARGV[1]) then
  if ARGV[4] == '1' then
    if redis.call('ZADD', KEYS[6], ms + tonumber(ARGV[5]), ARGV[1]) == 1 then
      redis.call('RPUSH', KEYS[5], ARGV[1])
    end
    redis.call('PEXPIRE', KEYS[5], 2 * tonumber(ARGV[5]))
    redis.call('PEXPIRE', KEYS[6], 2 * tonumber(ARGV[5]))
  end
  if held then
    return -2 - redis.call('PTTL', KEYS[1])
  end
  return -1
end
if head then
  redis.call('LPOP', KEYS[5])
  redis.call('ZREM', KEYS[6], ARGV[1])
end
"""
    + _MINT
    + _GRANT
)

# KEYS: lock, epoch. ARGV: value, channel, name. Returns the integer 1, or else the
# epoch as a string ('' if none): a holder whose token is older than the epoch held
# the lock before Redis lost its counter, so Redis lost the hold too.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return redis.call('GET', KEYS[2]) or ''
"""

# KEYS: lock, epoch. ARGV: value, lease ms. Returns 1, or else the epoch as RELEASE does.
EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return redis.call('GET', KEYS[2]) or ''
"""

# KEYS: lock, tombstone, queue, places. ARGV: nonce, tombstone ms, channel, name.
# Gives up an attempt whose outcome is unknown, or a waiter's place: the tombstone stops
# the attempt if Redis has not run it yet, and a hold it already took is released.
ABANDON = """
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('LREM', KEYS[3], 0, ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, string.find(held, ':', 1, true) + 1) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
  return 1
end
return 0
"""

# KEYS: lock, fence, epoch. ARGV: channel, name, floor. Deletes the lock whoever holds
# it and mints a token, so that every later acquisition gets a larger one.
# Returns {the broken holder's value or '', the minted token}.
BREAK = (
    """
local held = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
"""
    + _MINT
    + """
redis.call('PUBLISH', ARGV[1], ARGV[2])
return {held or '', text}
"""
)
