// BIP-340 Schnorr and x-only ECDH for nsecrelay, on the system libsecp256k1 (Debian's
// libsecp256k1-dev). Hex goes in and out as JS strings so the hot paths allocate no Buffers.
// One context serves every thread: libsecp256k1 contexts are read-only after randomisation.
#include <node_api.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

static secp256k1_context *ctx;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void make_context(void) {
  unsigned char seed[32];
  ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  // Blinding against timing side channels in signing. Without it (no randomness, which a fresh
  // context's randomize cannot otherwise refuse) signatures are still correct, only unblinded.
  int blinded = getrandom(seed, sizeof seed, 0) == sizeof seed && secp256k1_context_randomize(ctx, seed);
  (void)blinded;
  memset(seed, 0, sizeof seed);
}

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads a hex string of exactly 2*n characters into out; 0 when it is not one.
static int read_hex(napi_env env, napi_value v, unsigned char *out, size_t n) {
  char text[130];
  size_t len = 0;
  // Room for one character more than wanted, so a longer string shows as one (napi truncates).
  if (n * 2 + 2 > sizeof text) return 0;
  if (napi_get_value_string_latin1(env, v, text, n * 2 + 2, &len) != napi_ok || len != n * 2) return 0;
  for (size_t i = 0; i < n; i++) {
    int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return 0;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return 1;
}

static napi_value hex_string(napi_env env, const unsigned char *in, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char text[128];
  napi_value out;
  for (size_t i = 0; i < n; i++) {
    text[2 * i] = digits[in[i] >> 4];
    text[2 * i + 1] = digits[in[i] & 15];
  }
  napi_create_string_latin1(env, text, n * 2, &out);
  return out;
}

// Points at the bytes of a Uint8Array (Buffers included) of exactly n bytes; 0 otherwise.
static int read_bytes(napi_env env, napi_value v, const unsigned char **out, size_t n) {
  bool is = false;
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array || len != n) return 0;
  *out = data;
  return 1;
}

static int get_args(napi_env env, napi_callback_info info, napi_value *argv, size_t want) {
  size_t argc = want;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == want;
}

static napi_value boolean(napi_env env, int value) {
  napi_value out;
  napi_get_boolean(env, value != 0, &out);
  return out;
}

// verify(hash: Uint8Array(32), pubkeyHex: string, sigHex: string): boolean. Malformed hex or a
// pubkey off the curve is simply a failed check.
static napi_value verify(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  const unsigned char *hash;
  unsigned char pub[32], sig[64];
  secp256k1_xonly_pubkey key;
  if (!get_args(env, info, argv, 3) || !read_bytes(env, argv[0], &hash, 32)) return fail(env, "verify(hash32, pubkeyHex, sigHex)");
  if (!read_hex(env, argv[1], pub, 32) || !read_hex(env, argv[2], sig, 64)) return boolean(env, 0);
  if (!secp256k1_xonly_pubkey_parse(ctx, &key, pub)) return boolean(env, 0);
  return boolean(env, secp256k1_schnorrsig_verify(ctx, sig, hash, 32, &key));
}

// keypair(seckey: Uint8Array(32)): Buffer(96), libsecp256k1's keypair, which may be copied freely.
// Signing with it skips the point multiplication that deriving it costs (half of a sign).
static napi_value keypair(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  const unsigned char *seckey;
  secp256k1_keypair pair;
  void *data;
  if (!get_args(env, info, argv, 1) || !read_bytes(env, argv[0], &seckey, 32)) return fail(env, "keypair(seckey32)");
  if (!secp256k1_keypair_create(ctx, &pair, seckey)) return fail(env, "invalid secret key");
  napi_create_buffer_copy(env, sizeof pair, &pair, &data, &result);
  memset(&pair, 0, sizeof pair);
  return result;
}

// signWith(hash: Uint8Array(32), keypair: Buffer(96)): sigHex, with fresh auxiliary randomness.
static napi_value sign_with(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  const unsigned char *hash, *pair;
  unsigned char aux[32], sig[64];
  if (!get_args(env, info, argv, 2) || !read_bytes(env, argv[0], &hash, 32) || !read_bytes(env, argv[1], &pair, sizeof(secp256k1_keypair)))
    return fail(env, "signWith(hash32, keypair96)");
  if (getrandom(aux, sizeof aux, 0) != sizeof aux) return fail(env, "no randomness");
  if (!secp256k1_schnorrsig_sign32(ctx, sig, hash, (const secp256k1_keypair *)pair, aux)) return fail(env, "invalid keypair");
  return hex_string(env, sig, 64);
}

// publicKey(seckey: Uint8Array(32)): x-only pubkey hex.
static napi_value public_key(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const unsigned char *seckey;
  unsigned char out[32];
  secp256k1_keypair pair;
  secp256k1_xonly_pubkey key;
  int ok;
  if (!get_args(env, info, argv, 1) || !read_bytes(env, argv[0], &seckey, 32)) return fail(env, "publicKey(seckey32)");
  ok = secp256k1_keypair_create(ctx, &pair, seckey) && secp256k1_keypair_xonly_pub(ctx, &key, NULL, &pair) &&
       secp256k1_xonly_pubkey_serialize(ctx, out, &key);
  memset(&pair, 0, sizeof pair);
  if (!ok) return fail(env, "invalid secret key");
  return hex_string(env, out, 32);
}

static int copy_x(unsigned char *out, const unsigned char *x32, const unsigned char *y32, void *data) {
  (void)y32;
  (void)data;
  memcpy(out, x32, 32);
  return 1;
}

// sharedX(seckey: Uint8Array(32), peerHex: string): Buffer(32), the x coordinate of seckey * P, P
// the even-y point of the x-only peer key (NIP-04's key and NIP-44's HKDF input).
static napi_value shared_x(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  const unsigned char *seckey;
  unsigned char point[33], x[32];
  secp256k1_pubkey peer;
  void *data;
  if (!get_args(env, info, argv, 2) || !read_bytes(env, argv[0], &seckey, 32)) return fail(env, "sharedX(seckey32, peerHex)");
  point[0] = 2;
  if (!read_hex(env, argv[1], point + 1, 32) || !secp256k1_ec_pubkey_parse(ctx, &peer, point, 33)) return fail(env, "invalid peer public key");
  if (!secp256k1_ecdh(ctx, x, &peer, seckey, copy_x, NULL)) return fail(env, "invalid secret key");
  napi_create_buffer_copy(env, 32, x, &data, &result);
  memset(x, 0, sizeof x);
  return result;
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    { "verify", verify }, { "keypair", keypair }, { "signWith", sign_with }, { "publicKey", public_key },
    { "sharedX", shared_x },
  };
  pthread_once(&ctx_once, make_context);
  if (!ctx) return NULL;
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}
