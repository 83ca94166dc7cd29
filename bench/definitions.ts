// What each figure of `npm run bench` means: printed at the end of BENCHMARKS.md.

export const DEFINITIONS = `## How each figure is defined

Every throughput or rate figure is the **median of the timed runs** (5 by default, \`--runs N\`)
after a warm-up, with the min and max of those runs; the operation runs in batches of about
0.2 ms between two clock reads, one thread. Each crypto backend runs in its own child process
(\`node --expose-gc [--conditions=portable] build-bench/measure.js\`), which imports the
library as \`digest-md5\` through the package's self-reference, i.e. \`dist/\` as users get it.
The Node backend is the headline; the portable one (@noble/hashes and the TypeScript ciphers,
what browsers and Deno run) is reported beside it. The peers' figures come from their own
benchmarks (\`../shared/interop/java/bench.sh\`, \`../shared/interop/cyrus/bench.sh\`), run in
the same invocation after ours, one at a time; for Cyrus the handshake table with the users in
memory (auxprop plugin \`benchmem\`) is used, the one comparable with ours. \`ours/JDK\` and
\`ours/Cyrus\` are ours divided by theirs; a peer's figure is empty where it has no such row
(the JDK has no des handshake and no aes; neither has a \`verify\` row) or fails it (Debian's
Cyrus cannot run 3des).

### (a) Handshakes and verifications

- \`handshake/<qop>[/<cipher>]\`, handshakes/s: one full exchange per operation, client and
  server in one thread: \`new DigestMD5Server(config)\` (the server options checked once into a
  \`DigestMD5ServerConfig\`, as a listener does and as Cyrus reads its configuration once at
  \`sasl_server_init\`) and \`new DigestMD5Client(options)\`, server challenge,
  client response, server rspauth, client check of rspauth (the JDK's four evaluate calls),
  and for auth-int and auth-conf both \`securityLayer\`s (keys derived, ciphers keyed), as the
  JDK and Cyrus set up their layers when the handshake ends. User \`chris\` / \`secret\`,
  service \`imap\`, host \`elwood.innosoft.com\`; the credentials are a \`Map\` looked up
  synchronously. The server offers every qop and every cipher; the client asks for one.
- All servers share **one \`ServerSessions\`** with its default options, as a real server does,
  and it is **filled to its bounds before timing** (its context cache and replay store, found by
  inserting real issued nonces until the sizes stop growing), so every timed handshake pays the
  eviction a server at capacity pays. \`handshake/auth/fresh-sessions\` is the same auth
  handshake with a new \`ServerSessions\` every 1,000 handshakes (caches never full): the
  difference is the cost of the bookkeeping at capacity.
- \`verify/auth\`, verifications/s: the server's \`step(response)\` alone (parsing, checks against
  the offer, nonce MAC and age, partial context, credential lookup, digests, replay store,
  context cache, rspauth). Nonces are single-use, so the (challenge, response) pairs are made
  in batches of 500 outside the timed region (a server each, its challenge issued, the client's
  response computed); only the 500 server steps are timed, and a run adds up timed batches
  until it has 1 s of them.
- Limit of a handshake row: the cryptographic work RFC 2831 requires, both sides, back to back
  with the backend's own primitives (\`#crypto\` md5 and randomBytes): 46 CSPRNG bytes (a 16-byte
  nonce, a 30-byte cnonce), six MD5s per side (H(username:realm:password), H(A1), H(A2), the
  response, H(A2) of rspauth, rspauth) over inputs of the real lengths; with a layer the key
  MD5s (Kic and Kis on each side; auth-conf also Kcc and Kcs) and for auth-conf the four cipher
  keyings (encrypt and decrypt on each side, node:crypto for 3des on the Node backend, the
  library's classes otherwise). Not in the limit: parsing, formatting, hex, objects, the
  sessions' bookkeeping and our nonces' HMAC-SHA-256 (not required by the RFC). The limit of
  \`verify/auth\` is the server's six MD5s.

### (b) wrap+unwrap throughput

- \`wrap+unwrap/<qop or cipher>/<size>\`, MB/s (10^6 bytes of plaintext per second): one
  operation is \`server.securityLayer.unwrap(client.securityLayer.wrap(msg))\` on a layer pair from
  a real handshake with maxbuf 16777215 on both sides (as the peers' benchmarks), for a random
  message of 1024, 16384 or 65536 bytes, round trip checked first. Tokens carry no 4-byte length
  (as the JDK's wrap; Cyrus's \`sasl_encode\` adds one).

### (c) The limit of the primitives

- Limit of a wrap+unwrap row: plaintext MB/s of a loop that makes only the primitive calls one
  wrap+unwrap must make, on preallocated buffers: **HMAC-MD5(Ki, seq ‖ msg) twice** (the MAC of
  wrap and the MAC of unwrap, each over 4 + size bytes) and, with auth-conf, the **encryption and
  the decryption of msg ‖ pad ‖ MAC** (size + 10 bytes, plus 1..8 bytes of padding for des and
  3des, 1..16 for aes). So for auth-int the limit is exactly half of the HMAC-MD5 throughput
  over the same bytes. HMAC-MD5 is node:crypto's \`createHmac('md5', key).update(seq).update(msg).digest()\`
  per message on the Node backend (node:crypto cannot reuse a keyed state), and @noble/hashes
  with the keyed state cloned per message on the portable one. Ciphers are what the layer uses:
  node:crypto \`des-ede-cbc\` and \`aes-128-cbc\` (update without final) for 3des and aes on the
  Node backend; the library's own RC4 and DesCbc classes (Node 20's OpenSSL 3 has neither rc4
  nor des in its default provider; RC4 runs inputs from 512 bytes through its WebAssembly loop on
  both backends), and on the portable backend also TripleDesCbc and AesCbc, in place. Nothing else is in the loop: no framing, checks, copies or allocations beyond what
  the primitive's API itself makes. Ours and the limit are timed in alternating runs.
- \`of limit\` = ours / limit. It can exceed 1 where the library uses a faster primitive than the
  reference (e.g. a JavaScript HMAC-MD5 with precomputed pads for small messages, which beats
  node:crypto's per-call cost).
- "Primitives alone" lists the raw throughputs: the reference HMAC-MD5 and the backend's own
  \`hmacMd5(key).mac\` (as the layer calls it) over 4 + size bytes, and each cipher encrypting
  64 KiB + 10 bytes + padding, one direction.

### (d) Memory

Heap = V8 \`heapUsed\` + \`external\` (ArrayBuffer backing stores live outside the V8 heap),
measured after four full GCs (\`global.gc\`), as the delta over N objects divided by N.

- \`memory/partial-context\`: N challenges issued through one \`ServerSessions\` (a server each,
  \`step()\` once, then dropped): what a server keeps per unanswered challenge. N = 100,000.
- \`memory/cached-context\`: N qop=auth handshakes through one \`ServerSessions\` sized to keep
  them all, clients and servers dropped: what the server keeps per authenticated context, i.e.
  its context-cache entry (for subsequent authentication) and its replay-store entry. N = 100,000.
- \`memory/replay-entry\`: the replay-store entry alone, from N/4 qop=auth-int handshakes (an
  authentication with a layer leaves only this: no context is cached for it). The
  context-cache entry alone is the difference of the two rows above.
- \`memory/layer/<kind>\`: N = 10,000 open \`SecurityLayer\`s (one side, both directions' keys and
  cipher states) held in an array. On the Node backend aes keeps OpenSSL cipher contexts in
  native memory, outside the heap: the growth of the process's RSS is given in its note. 3des
  holds TypeScript round keys until its first buffer of 512 bytes or more moves it to OpenSSL.

\`--quick\` divides every duration by 10 and uses N = 10,000 contexts and 2,000 layers: for a
smoke test only, its figures are not comparable.
`;
