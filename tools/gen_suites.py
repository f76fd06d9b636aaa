#!/usr/bin/env python3
"""gen_suites.py: writes src/lib/tls/suites_table.c from src/lib/tls/suites.txt.

The data file holds only facts that cannot be derived: code point, IANA name,
OpenSSL name (or "-"), and for the two private-use GOST suites a few
key=value overrides. Everything else is derived from the IANA name here, so
the rules live in one place and a new registry entry is one line.

Usage: tools/gen_suites.py [suites.txt [suites_table.c]]
The output is committed, so building portprobe needs no Python; rerun this
after editing suites.txt (the unit tests check the table against OpenSSL).

Derivation from an IANA name
----------------------------
TLS 1.2 and earlier: TLS_<KXAU>[_EXPORT]_WITH_<CIPHER>[_<MAC>]
  KXAU -> (kx, au):
    NULL -> (NULL, anon)              RSA -> (RSA, RSA)
    DH_DSS, DH_RSA -> (DH, DSS/RSA)   DHE_DSS, DHE_RSA -> (DHE, DSS/RSA)
    DH_anon -> (DH, anon)             ECDH_ECDSA, ECDH_RSA -> (ECDH, ...)
    ECDHE_ECDSA, ECDHE_RSA -> (ECDHE, ...)   ECDH_anon -> (ECDH, anon)
    PSK -> (PSK, PSK)                 DHE_PSK, PSK_DHE -> (DHE_PSK, PSK)
    RSA_PSK -> (RSA_PSK, RSA)         ECDHE_PSK -> (ECDHE_PSK, PSK)
    SRP_SHA -> (SRP, SRP)             SRP_SHA_RSA, SRP_SHA_DSS -> (SRP, RSA/DSS)
    KRB5 -> (KRB5, KRB5)              ECCPWD -> (ECCPWD, ECCPWD)
    GOSTR341112_256 -> (GOST, GOST)
  "_EXPORT" before "_WITH_" marks an export suite.
  MAC: the last component when it is MD5, SHA, SHA256, SHA384 (HMAC), OMAC
    or IMIT (GOST), or NULL (TLS_NULL_WITH_NULL_NULL only); otherwise the cipher is an AEAD (GCM, CCM, CCM_8,
    CHACHA20_POLY1305, MGM) and mac is "AEAD". A trailing SHA256/SHA384
    after an AEAD cipher (D001-D005) is its PRF hash.
  CIPHER: the rest, as IANA spells it.
TLS 1.3: TLS_<CIPHER>_<HASH> with no "_WITH_" (HASH: SHA256, SHA384,
  SHA512, SM3): kx and au "any", AEAD, forward secret. TLS_<H>_<H>
  (RFC 9150) is integrity only: enc NULL, mac H. The GOST MGM suites
  (0xC103-0xC106, RFC 9367) have a TLS 1.2 shaped name but are TLS 1.3
  suites and are treated as such.

Fields
  key_bits / strength_bits / block_bits: from the cipher (table CIPHERS);
    the export ciphers (RC4_40, RC2_CBC_40, DES40_CBC, DES_CBC_40) have 40
    secret bits; 3DES has 168 key bits and 112 bits
    of strength.
  prf: the hash the name fixes (MAC hash of a SHA256/SHA384 suite, the
    trailing hash of an AEAD or TLS 1.3 suite, SHA256 for the CCM suites of
    RFC 6655/7251, GOSTR341112_256 for GOST); "default" for MD5/SHA suites.
  short_tag: CCM_8 ciphers (64-bit tag).
  pfs: kx DHE, ECDHE, DHE_PSK, ECDHE_PSK, SRP, ECCPWD, and TLS 1.3.
  versions: TLS 1.3 suites TLSv1.3; AEAD, RFC 9189 GOST, or a SHA256/SHA384
    MAC: TLSv1.2, except that the PSK key exchanges with a SHA256/SHA384 MAC
    (RFC 5487, 5489, 6367) are defined for TLS 1.0 and later and join the
    rest at SSLv3-TLSv1.2; TLS_NULL_WITH_NULL_NULL none.
  registered: false for lines marked `private`.
Overrides (key=value after the OpenSSL name): like=<IANA-style name to
derive from>, kx, au, enc, mac, prf, versions=<lo>-<hi> (e.g.
TLSv1.0-TLSv1.2). A private line must give like= or all of kx/au/enc/mac.

SSLv2 lines have a 3-byte id and a name SSL_CK_<CIPHER>[_EXPORT40]_WITH_MD5.
"""
import re
import sys

CIPHERS = {
    # cipher: (key_bits, strength_bits, block_bits)
    "NULL": (0, 0, 0),
    "RC4_40": (40, 40, 0),
    "RC4_128": (128, 128, 0),
    "RC2_CBC_40": (40, 40, 64),
    "DES40_CBC": (40, 40, 64),
    "DES_CBC_40": (40, 40, 64),
    "DES_CBC": (56, 56, 64),
    "3DES_EDE_CBC": (168, 112, 64),
    "IDEA_CBC": (128, 128, 64),
    "SEED_CBC": (128, 128, 128),
    "CHACHA20_POLY1305": (256, 256, 0),
    "AEGIS_128L": (128, 128, 0),
    "AEGIS_256": (256, 256, 0),
    "28147_CNT": (256, 256, 64),
}
# family prefix of the remaining ciphers: (key_bits or None, block_bits)
FAMILIES = {
    "AES_128_": (128, 128),
    "AES_256_": (256, 128),
    "CAMELLIA_128_": (128, 128),
    "CAMELLIA_256_": (256, 128),
    "ARIA_128_": (128, 128),
    "ARIA_256_": (256, 128),
    "SM4_": (128, 128),
    "KUZNYECHIK_": (256, 128),
    "MAGMA_": (256, 64),
}
AEAD_MODES = ("_GCM", "_CCM", "_CCM_8", "_MGM_L", "_MGM_S")
KXAU = {
    "NULL": ("NULL", "anon"),
    "RSA": ("RSA", "RSA"),
    "DH_DSS": ("DH", "DSS"),
    "DH_RSA": ("DH", "RSA"),
    "DHE_DSS": ("DHE", "DSS"),
    "DHE_RSA": ("DHE", "RSA"),
    "DH_anon": ("DH", "anon"),
    "ECDH_ECDSA": ("ECDH", "ECDSA"),
    "ECDH_RSA": ("ECDH", "RSA"),
    "ECDHE_ECDSA": ("ECDHE", "ECDSA"),
    "ECDHE_RSA": ("ECDHE", "RSA"),
    "ECDH_anon": ("ECDH", "anon"),
    "PSK": ("PSK", "PSK"),
    "DHE_PSK": ("DHE_PSK", "PSK"),
    "PSK_DHE": ("DHE_PSK", "PSK"),
    "RSA_PSK": ("RSA_PSK", "RSA"),
    "ECDHE_PSK": ("ECDHE_PSK", "PSK"),
    "SRP_SHA": ("SRP", "SRP"),
    "SRP_SHA_RSA": ("SRP", "RSA"),
    "SRP_SHA_DSS": ("SRP", "DSS"),
    "KRB5": ("KRB5", "KRB5"),
    "ECCPWD": ("ECCPWD", "ECCPWD"),
    "GOSTR341112_256": ("GOST", "GOST"),
}
HMACS = ("MD5", "SHA", "SHA256", "SHA384")
GOST_MACS = ("OMAC", "IMIT")
TLS13_HASHES = ("SHA256", "SHA384", "SHA512", "SM3")
PSK_KX = ("PSK", "DHE_PSK", "RSA_PSK", "ECDHE_PSK")
PFS_KX = ("DHE", "ECDHE", "DHE_PSK", "ECDHE_PSK", "SRP", "ECCPWD", "any")
VERSIONS = ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
VER_MACROS = ["TLS_VER_SSL3", "TLS_VER_TLS10", "TLS_VER_TLS11", "TLS_VER_TLS12", "TLS_VER_TLS13"]
GOST_PRF = "GOSTR341112_256"


def fail(msg):
    sys.exit("gen_suites: " + msg)


def cipher_bits(enc):
    if enc in CIPHERS:
        return CIPHERS[enc]
    for prefix, (bits, block) in FAMILIES.items():
        if enc.startswith(prefix):
            return (bits, bits, block)
    fail("unknown cipher " + enc)


def is_aead(enc):
    return enc == "CHACHA20_POLY1305" or enc.startswith("AEGIS_") or enc.endswith(AEAD_MODES)


def derive(name):
    """The derived fields of an IANA-style TLS suite name."""
    s = {}
    if not name.startswith("TLS_"):
        fail("not an IANA-style name: " + name)
    body = name[4:]
    if "_WITH_" not in body:  # TLS 1.3: TLS_<cipher>_<hash>
        enc, _, hash_ = body.rpartition("_")
        if hash_ not in TLS13_HASHES:
            fail("unknown TLS 1.3 hash in " + name)
        s.update(kx="any", au="any", prf=hash_, versions=(4, 4))
        if enc == hash_:  # RFC 9150 integrity-only
            s.update(enc="NULL", mac=hash_, aead=False)
        else:
            s.update(enc=enc, mac="AEAD", aead=True)
            if not is_aead(enc):
                fail("TLS 1.3 suite without an AEAD: " + name)
        return finish(s)

    kxau, _, rest = body.partition("_WITH_")
    s["export"] = kxau.endswith("_EXPORT")
    if s["export"]:
        kxau = kxau[: -len("_EXPORT")]
    if kxau not in KXAU:
        fail("unknown key exchange " + kxau + " in " + name)
    s["kx"], s["au"] = KXAU[kxau]
    head, _, last = rest.rpartition("_")
    if last in HMACS + GOST_MACS + ("NULL",) and head:
        enc, mac = head, last
    else:
        enc, mac = rest, None
    if mac in HMACS and is_aead(enc):  # AEAD with its PRF hash (RFC 8442)
        s.update(enc=enc, mac="AEAD", aead=True, prf=mac)
    elif mac is None:
        if not is_aead(enc):
            fail("no MAC and no AEAD in " + name)
        s.update(enc=enc, mac="AEAD", aead=True)
        s["prf"] = GOST_PRF if s["kx"] == "GOST" else "SHA256"
    else:  # a MAC, or "NULL" for TLS_NULL_WITH_NULL_NULL
        s.update(enc=enc, mac=mac, aead=False)
        if mac in GOST_MACS:
            s["prf"] = GOST_PRF
        else:
            s["prf"] = mac if mac in ("SHA256", "SHA384") else "default"

    if s["kx"] == "GOST" and s["aead"]:  # RFC 9367: TLS 1.3 suites
        s.update(kx="any", au="any", versions=(4, 4))
    elif s["kx"] == "NULL":
        s["versions"] = None
    elif s["aead"] or s["kx"] == "GOST":
        s["versions"] = (3, 3)
    elif s["mac"] in ("SHA256", "SHA384") and s["kx"] not in PSK_KX:
        s["versions"] = (3, 3)
    else:
        s["versions"] = (0, 3)
    return finish(s)


def finish(s):
    s.setdefault("export", False)
    key, strength, block = cipher_bits(s["enc"])
    s.update(key_bits=key, strength_bits=strength, block_bits=block)
    s["short_tag"] = s["enc"].endswith("_CCM_8")
    s["pfs"] = s["kx"] in PFS_KX
    return s


def parse_versions(text):
    lo, _, hi = text.partition("-")
    try:
        return (VERSIONS.index(lo), VERSIONS.index(hi or lo))
    except ValueError:
        fail("bad versions " + text)


def version_expr(v):
    if v is None:
        return "0"
    lo, hi = v
    if (lo, hi) == (0, 3):
        return "TLS_VER_LEGACY"
    return " | ".join(VER_MACROS[lo : hi + 1])


def parse_sslv2(name):
    m = re.fullmatch(r"SSL_CK_(\w+?)(_EXPORT40)?_WITH_MD5", name)
    if not m:
        fail("bad SSLv2 name " + name)
    enc, export = m.group(1), bool(m.group(2))
    bits = {
        "RC4_128": (128, 128),
        "RC4_64": (64, 64),
        "RC2_128_CBC": (128, 128),
        "IDEA_128_CBC": (128, 128),
        "DES_64_CBC": (56, 56),
        "DES_192_EDE3_CBC": (168, 112),
    }
    if enc not in bits:
        fail("unknown SSLv2 cipher " + enc)
    key, strength = (40, 40) if export else bits[enc]
    return dict(enc=enc, key_bits=key, strength_bits=strength, export=export)


def read(path):
    suites, sslv2 = [], []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if len(words) < 3:
                fail("%s:%d: want <id> <name> <openssl|->" % (path, lineno))
            ident, name, ossl = words[:3]
            ossl = None if ossl == "-" else ossl
            if re.fullmatch(r"0x[0-9A-F]{6}", ident):
                s = parse_sslv2(name)
                s.update(id=int(ident, 16), name=name, openssl=ossl)
                sslv2.append(s)
                continue
            if not re.fullmatch(r"0x[0-9A-F]{4}", ident):
                fail("%s:%d: bad id %s" % (path, lineno, ident))
            opts, private = {}, False
            for w in words[3:]:
                if w == "private":
                    private = True
                elif "=" in w:
                    k, v = w.split("=", 1)
                    opts[k] = v
                else:
                    fail("%s:%d: bad option %s" % (path, lineno, w))
            if private and "like" not in opts:
                s = {"export": False, "aead": False, "versions": (0, 3)}
                for k in ("kx", "au", "enc", "mac", "prf"):
                    if k not in opts:
                        fail("%s:%d: private suite needs %s=" % (path, lineno, k))
                    s[k] = opts[k]
                s = finish(s)
            else:
                s = derive(opts.get("like", name))
                for k in ("kx", "au", "enc", "mac", "prf"):
                    if k in opts:
                        s[k] = opts[k]
            if "versions" in opts:
                s["versions"] = parse_versions(opts["versions"])
            s.update(id=int(ident, 16), iana=name, openssl=ossl, registered=not private)
            suites.append(s)
    check(suites, "id", "iana")
    check(sslv2, "id", "name")
    return suites, sslv2


def check(rows, idkey, namekey):
    ids = [r[idkey] for r in rows]
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        fail("ids not strictly ascending")
    names = {}
    for r in rows:
        for n in (r[namekey], r["openssl"]):
            if n is None:
                continue
            prev = names.setdefault(n.upper(), r[idkey])
            if prev != r[idkey]:
                fail("name %s used by 0x%X and 0x%X" % (n, prev, r[idkey]))


def cstr(v):
    return "NULL" if v is None else '"%s"' % v


def cbool(v):
    return "true" if v else "false"


def emit(suites, sslv2, out):
    w = out.write
    w("/* suites_table.c: the cipher-suite tables. GENERATED by tools/gen_suites.py\n")
    w(" * from suites.txt; do not edit, edit suites.txt and rerun the script.\n")
    w(" * Columns: id, IANA, OpenSSL, kx, au, enc, mac, prf, key bits, strength bits,\n")
    w(" * block bits, versions, aead, short_tag, pfs, export, registered. */\n")
    w('#include "tls/suites.h"\n\n')
    w("/* clang-format off */\n")
    w("const struct tls_suite tls_suites[] = {\n")
    rows = []
    for s in suites:
        rows.append([
            "0x%04X," % s["id"], cstr(s["iana"]) + ",", cstr(s["openssl"]) + ",",
            cstr(s["kx"]) + ",", cstr(s["au"]) + ",", cstr(s["enc"]) + ",",
            cstr(s["mac"]) + ",", cstr(s["prf"]) + ",",
            "%d," % s["key_bits"], "%d," % s["strength_bits"], "%d," % s["block_bits"],
            version_expr(s["versions"]) + ",", cbool(s["aead"]) + ",",
            cbool(s["short_tag"]) + ",", cbool(s["pfs"]) + ",", cbool(s["export"]) + ",",
            cbool(s["registered"]),
        ])
    table(w, rows)
    w("};\n")
    w("const size_t tls_suites_count = sizeof(tls_suites) / sizeof(tls_suites[0]);\n\n")
    w("const struct tls_sslv2_suite tls_sslv2_suites[] = {\n")
    rows = []
    for s in sslv2:
        rows.append([
            "0x%06X," % s["id"], cstr(s["name"]) + ",", cstr(s["openssl"]) + ",",
            cstr(s["enc"]) + ",", "%d," % s["key_bits"], "%d," % s["strength_bits"],
            cbool(s["export"]),
        ])
    table(w, rows)
    w("};\n")
    w("const size_t tls_sslv2_suites_count =\n")
    w("\tsizeof(tls_sslv2_suites) / sizeof(tls_sslv2_suites[0]);\n")
    w("/* clang-format on */\n")


def table(w, rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = [c.ljust(widths[i]) for i, c in enumerate(r[:-1])] + [r[-1]]
        w("\t{" + " ".join(cells) + "},\n")


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src/lib/tls/suites.txt"
    dst = sys.argv[2] if len(sys.argv) > 2 else "src/lib/tls/suites_table.c"
    suites, sslv2 = read(src)
    with open(dst, "w") as out:
        emit(suites, sslv2, out)
    print("gen_suites: %d suites, %d SSLv2 kinds -> %s" % (len(suites), len(sslv2), dst))


if __name__ == "__main__":
    main()
