/* test_tls_out.c: the `portprobe tls` writers (src/lib/out/tls_*.c) byte for
 * byte, the report model's functions (src/lib/tls/report.c) and the groups
 * table (src/lib/tls/groups.c).
 *
 * Reports are built by hand the way the engine fills them, with real
 * certificates made here with the OpenSSL API and judged by x509sum.c
 * (tls_cert_summarize, tls_chain_verify) at a fixed present, NOW. The keys
 * are fixed (below) and every certificate is signed with RSA PKCS#1 v1.5,
 * which is deterministic, so DER, fingerprints and pins are the same on
 * every run and the expected outputs can hold them literally.
 *
 * The five targets: a modern server (TLS 1.2 + 1.3 in server order, an RSA
 * and an ECDSA chain, an OCSP staple), a client-order server (SMTP
 * STARTTLS), a refused connection, an expired leaf under an untrusted root,
 * and a legacy server (SSLv2, SSLv3, TLS 1.0 with 3DES and RC4). The
 * expected text and JSON are the examples docs/tls-json.md and tls_text.c
 * point to. On a mismatch the output is saved to /tmp/pp_tls_out_<name>.got
 * and the first differing line is printed. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "out/tls_out.h"
#include "portprobe/parse.h"
#include "portprobe/tls.h"
#include "test.h"
#include "tls/groups.h"
#include "tls/report.h"

/* 2026-11-21T12:00:00Z: the fixed present */
#define NOW ((time_t)1795262400)

/* --- fixed keys (openssl genpkey; test material only) --------------------- */

static const char key_root[] = "-----BEGIN PRIVATE KEY-----\n"
			       "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC1aevuNaCLZBrV\n"
			       "ulf5+lKpjb9CCfScaklcTgdZkm3B4CSznREkjJkoMGLNuK8mWEyTxnUlcsdeixyE\n"
			       "ovFrV09mNjZ3b80+/AaikTWTdy3yZ8kY+gpYVBGJdXk+bvIjuQjIL3Jg4ft2DV4E\n"
			       "b6ApL/q4I3v0GRJxmaTu+GBrQcM11tmJeYJ4BvDIf6qDr/6pLaHwazTiTWzFJv95\n"
			       "E+Vd7m/aTxoXB5Ri29VQtUQ1DW9meBfmbc4UZ8cy4nyTTIB3bFetGkdShKvc+emz\n"
			       "IcDGEn6UHbLIJng85vuxwlvJ7tdjO6ve4cIxURWMZHnfr6qyyQOcJIgbgmJ5EEAJ\n"
			       "J2tOukcxAgMBAAECggEARJXkDa4WoTxabN1Db420/MdLPKNY6F3CmHQjkTir6DVe\n"
			       "is1h8sh5CtmoMRCWn0+Yu/G2zk6jk1nSkU6tKSDcMs9iLiuFlD9iHsn5UGQpadDV\n"
			       "FW1KxfQaoTZZfUIip2DIMi7F9lzZXdtV5SVyjr/F8SHxNerYrzwgP/yFL2ewbsTF\n"
			       "i0kVw/PEY8Ljij6kM0ClAeAY3g4kHR2X7ZnVGWbJGN8kL2J3HmNfmJxsz7e8RzSm\n"
			       "VDtgHLpyX5jHwGSTDvCoCHEOI3IVrBn2RB6fPNi4VAaX9XHfMZtXVZynsuNWrsyF\n"
			       "s738Qr6CG9Nyp4T8cQLdr0F/MD+jDNWFJih0yA7LRQKBgQDZGvZxy/VeR2ewMNMa\n"
			       "JcioHJXa11JVa2hsFHeZNu9GO1Xv27dgrqo51ERKHiqe8RzHiCDmLDgMrsCme7dd\n"
			       "enf/QloaAhdZirKAdEsNFWzxwHns+Bp87eRHqa4jNuAwwz6jqWb/R1WwcewNo7YS\n"
			       "0ykoY/5nshxfkdN8QOY74CUDNwKBgQDV6gwRry72uIXY0KpX1OVpjdpDHT99BteZ\n"
			       "jIlXTwOu06ePmv4jg9BCBSK3fJ8DwhrQp1oTaiYhAsBRV7tJ529+pR29NHyPbyk/\n"
			       "a4bEw6XhAWbVceGXsPl/dkWIf5n0Grt9b1UhsZdpgF7rBUUXPPZHFfqFMbsIGHGN\n"
			       "Tdfew3IM1wKBgDy/oKni6juBO3A/mTI91FHF/eCIU493SHbFm1mR144NWFSPZFZ3\n"
			       "SUZ5MMqUelSTHvxuCNafFOfnlhx/jaVoeV9Bj7irUSFK//uVjtKQZjWXKAa4vaCr\n"
			       "aC7tOb68wiqi10owQpO3wDBpECYY4v+NenzEzhDx86KCSW0BM+sZIwItAoGAYeyH\n"
			       "Y90PIbBszUkQga6a6oweW1TbSG/GaKs1//rS08heT1YDetyPjHlvYBGzdXP49IV3\n"
			       "raWNGNV6loIT4YwJtS7/AyswzjRz7G1bv11U5UDQA2vjep5wSJIq2IaZQm6uX4iE\n"
			       "ryzuBETYrru12iJ1FyuPiEOwu878xFPbO0W7QvcCgYAqI5UDVsgYK58RqVOHxMMq\n"
			       "/2jckXKiS9Kx8aBoG7l/PUkSreL1T87WIlPshT7TO1OM9e5+nUjh1HH3e0pV9nzy\n"
			       "B2bJnlUa+Z79aFu6xv05Z9ibdNReh8rpKcBZc4v+jzbwfsWjnlrHhUGnCJwHFTIR\n"
			       "qaT0kXEMxKGI6Uj3vkX2ew==\n"
			       "-----END PRIVATE KEY-----\n";
static const char key_int[] = "-----BEGIN PRIVATE KEY-----\n"
			      "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDsvUnLUNJpyigd\n"
			      "g+dHLKKHA9ysWb0+nlDjy6WRO/CB1OeG1abWLghuZR2+C1W/YXB5g+5cQ6qM1iC4\n"
			      "Nrf3fzwVCFL0PESfshpip7KK5Nkv9JkPwcRMb+4dgpt/lqONKsyzN+MOA6bu0PY/\n"
			      "7VnQCbHnLrwqwEnns6cETvg+pIVVJNjOpkHuBdjP9HM6cw21iBnQfJUzXO4AA6X+\n"
			      "1cwMwjRsLws6cOqBC+bOWKuW6AlWPG30StDU0wEu+sbMV8KipnoTrEC6+BAg1IBc\n"
			      "KKt+gbuxoGMOATcM2oYEvh+J/55p8OCMCCPSmBO6ZZawcflDf2UqcjMQLR/b38Fv\n"
			      "P8LovdoHAgMBAAECggEANWnN1QgiuUipvWMN0wKwltrZtq82ogKxSHwhmn+WF4z0\n"
			      "QflBf7B6KYI58C95hMkUye3o4TtJJyaG0llSL46u/SXYJY/Vgdx61Ih2oZzZndbH\n"
			      "lAUJZ5+Xb2QQ9nwD4a1m6wawfXB4gQh3jtvb+DK/x2PFg7XH1vWzOKcinmubQ6ay\n"
			      "AYrU0IN6W8lvuChtkyapxc7uIztTkWxzcSCGLEvru01MCz21BMHFYR2X2uIPyXh9\n"
			      "uwfBFZrmkJyeLUzmp6WlS/FhTNx9y92UQRlULuTfN6aQZVu+tq5l4J5EZ5OnXTpI\n"
			      "wb2NG+8d+CpLTG12bYU4bRyv+nZeQrTmD+hkACFzUQKBgQD7LO2Blkr8r/K1UN7z\n"
			      "AbVo91SdT31N2Yp7bsobPi/9hK9gNDOCbbZCdmG6VZJSTgeNpmHcX2Yh5e4zIGmF\n"
			      "/2YFtbHNhx4XbdTDpEdqykbiqnx0K4ghChmmfYW9hwQ8klLyBTu0G7IcCpz+Hv33\n"
			      "KpsqmKR5qRf6rTcU8iLmgLx5twKBgQDxSWA0vcSpSgmydUrowLeWp3AlxFsN13kt\n"
			      "X+ytfpvoyKVyqTQhggv2uKQx64Ygydt3yOt0ZW2hi/GZGcWsTmmVMPGkYE5xS8fO\n"
			      "H55VMLFWLNfpGnp4Q4l80T1nO/eMYe/xscXiz+c1A21dgmdPwWFDzOHvicE1IFaU\n"
			      "QPWP1IHiMQKBgGh088Ubss3Jgn9jRYT8JeykR10wrKTOnqfcmFKiFyUwpBq3OuC4\n"
			      "Lb8QKm5qnfJ6nuuK0VHrnrbkP56lkRz37P7c5DfcRGhr9brzO/wuaTJkwmMxo2hS\n"
			      "If66Xv9GAj4KgFJEWOL7TaQZydZpHydGYcdiOaya5O0MUkb0uAzyZu+bAoGAfuZ8\n"
			      "dsCnwfFykC0oLKnO5KlDTlmrGeiNjtO4grboANImUduz0zu2VxhdIvQgIvaHOsSt\n"
			      "MRZ3RlN3yXHIiQrkdNa9ABq2pteYSkxO1bc6TXxgQfTvHHlIwiC6DqV3WJnZvGAn\n"
			      "F1cI3tTinB+NfmDSavpCid0FhI9xeZ+AhxjZBsECgYBMyE0aTJcwLWTr8byajeRQ\n"
			      "RxSBZfkVBn6RlmG/jE/02E08oc/T3HETzbti8xq3pracdYMqSMkA7mBX046u59WQ\n"
			      "KC6smVafj9lsoQvEJP6lBftMRzmMlLyPwYLFWVaiFeXS7Cita7VKRfEYkG+b5/Zq\n"
			      "3xVnvIxzjRGlw/BKIqGsFQ==\n"
			      "-----END PRIVATE KEY-----\n";
static const char key_leaf[] = "-----BEGIN PRIVATE KEY-----\n"
			       "MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQCwwvKD4+v6Je/9\n"
			       "VUtHDaZQexoZjewvR7q7VzIXLXgMSR1tLlVDAN5wKtbY3RcTy3zEr8C9uwT/y1pf\n"
			       "N9UoMwMl2zK8oBGY1ynZrZSVvTCY9BsUUTaF6esUxgPPPOZZzpmf7aRh3e0V/In+\n"
			       "dU+q9+afhrGzdbKJg7bmc2YO0856Ofac1lofxTtPnghKciUl3lVVvqPskCVtS01T\n"
			       "4iLftSMvv7//1ObyA3MP5bW4nfjghpMGMyNgw94rp+bqK/Yqw51BW2myyZkQnac+\n"
			       "HgGvyllWdI0/nlzRa0rnUFilP9XU/h2Hlf51i2PX5YzG/xWmLg/SBqkPQJR2QQT9\n"
			       "QvoL+Ln3AgMBAAECggEAFYDXHohfBWK8G/uBBDcli8DjX0cj+78kI5+V7mU6Uh71\n"
			       "lM9Ve/3iZuQvQtk9R3aHyn2psEB3eTl0gwTjH4LP1+PJ+6cVZ5yKm3qXCtL7KIBP\n"
			       "EweribBNSDer8E1zpb/mcc2SeSgVrDO5WIVOQyQ+oBreCfuVfqPRX55GRM4riN7J\n"
			       "SLG3NLmD2CO+77ngwQ1KOhux4TBJJTdgN9NOpGuFqHwwr07mC8NCQZVPwan+zvdT\n"
			       "sQUYl8H0IS5QoWGntP4QjUSatPrc62VTkQATMnFIe5Isro6VYCwbPN/Lsx+03kC0\n"
			       "i51BPfRuc93bmuVFd8hvF4vKLs5fjMUwXV7rLYYHwQKBgQD3SFlneg+vyM690rDG\n"
			       "T5y9NWoRkb/e8OO6DRP4KRWpHFqvncTJfeJ9rGOMFIlG9OJGv5dCyE8ipWJpmlF9\n"
			       "yhcX9g5M7ERuoFAE6mcOv02qSHuINOAX/QjwvHct3abywmL7MxWNyDzZBfBxE2NI\n"
			       "zAxoZeAPWVaYI/8a1qhfR+RzBwKBgQC2/iqfK1kX9tJRRUYupHwZkbOYbV4gE8u7\n"
			       "ocxPlYX1NJ9b69O0j+TTwOW5VSnD5HddtgEZfOjjPWkzmQhwEpGrkaYJIz7TzGLR\n"
			       "J2Sy8FfbO0Tlw9jhGBERwrcnu1myAqaEo8a7oAChi1PZS8JR92sttLY5pAAWSyB2\n"
			       "c8aeu7wVkQKBgQC88CCveYnmy817KDI9M7MUtm02w2AQ3YmCLF/nqqyMK8f2ittD\n"
			       "ANY/I6pj64UAHDePyu+t7RLZ6/eHrIs7S1/dxPkkORoIVKEPQHJByFV1GDCa35uh\n"
			       "eIqONdHxz3ux3Gh4eo2raSVkxK70FtYzVwTb94r870vEryxJu12mf23DnQKBgQCX\n"
			       "NBzzuFW9v2y5SoxbLf59Ai9r27LSvoixWVgAyoQNwJWM1qfvopZpghJPuVbxTm5z\n"
			       "OFhgPx4P5kZvJBwcvrsvEQIour7HMzLTr8E9Oerec3LSh6lFFSXFjybX5a6PsDD3\n"
			       "mHw1vFfJI978xeSi5dXhxlhr+F86DImeVrvfnTAkgQKBgQClwdBvN7iwyaGbEbpE\n"
			       "51l0FDIxZI8kIdDBjSkZecGjmSBRa3CJc45SmCBQ0lMBJMvSRcxK5SMYtoC4AXtJ\n"
			       "/csWzGd/04QD3UBvgqPsbDNqDUPNKOfWfrjS4N/c749T3uy+SVNsDsRk05GPQ5v7\n"
			       "yhaUOZuAX7CVZdEM4pUvjmy3nA==\n"
			       "-----END PRIVATE KEY-----\n";
static const char key_old[] = "-----BEGIN PRIVATE KEY-----\n"
			      "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDVZWVFlKLE4wna\n"
			      "DzNTgPyYsLTC8HQR2Y8vul3sXN5SkfrVdEeFbiF9iEQHcyrZCaCGmGYBakt+DOGH\n"
			      "H2gX+/6Wt1YU/hKEaI/K1riW5BDDlaP3EAZpa/zQvWW/aCg5a6kyRZA+oPkizmN3\n"
			      "U71N/HXV4KG2vhO6MvHGrQn+h+7GJePQ2aiSyk8zTZ7T1zFOHGExL9K9kBcm2jLl\n"
			      "NvtzL9CswsjQ+Xqv3NivNIpY/RXtqeRLWS5vcmemaHvWaqHuKrdbCGd2bJsrJVlL\n"
			      "m7ICx+n36D60n5UShwqz0Q0TKfoia4JVtzXgdD0p8mIjps8g17G6RTldkvIm4UOK\n"
			      "i1jO3LEPAgMBAAECggEAR9M1h3p0YLWUSs+D9I69Nn1/kf+R6bIjBisB0v0dHYih\n"
			      "9zeInSoI3rI/R4ylduDNJZBlAQPwffBC9pKFHFGGit8Re8ZaoDN7dofYIH2KAPK8\n"
			      "eftsVQ5yTSX6ebbKly0cCV4to07WHDeAdhj65iVb2g2eEJ6gkDL2eusiKohBP3LC\n"
			      "+G1M2iSCePH7jETxOsMCdAcYWO/Q5Kcmf6Ol8sqMjiQ5W2En5glIkC/2FZDK2rSW\n"
			      "TpOpcD7MTx/sPvBH8sFRHOUxdZg1XmJDDXACbc8fBGhKbLAnVlbvNGZ/sMO3ABR6\n"
			      "/OJW9IXsCkJ5Qec+3Wdvd/mW2cT265tMKj3J6Lc3GQKBgQDwdljoXDTbUcD/k5Zn\n"
			      "IR0b/4zwoMOzRIwsSYm8YwYNSzpJlmHxmAoQ39GGsDnDTZGYEw9t4XfFobDoHqru\n"
			      "4F6xd/fHJK05bZqWrlevbeD8hzPX+NnienMqWzJwjGv8XCZ/02Z4DZ7wXMHgYev3\n"
			      "Hmd1nMEuqxm3EkPGn057wrUWqQKBgQDjL1PLLltrAljTqJS0DyInaG5bsnp9+rXt\n"
			      "mccM101QCZhVLNVdzWOsj4tr58VL71CUF0JafbeL8JohKtEsPnMwsQBFHTgYzHoP\n"
			      "hYyRud1xKBXiONr/zjhPsnSWO6xNK40P0PrAnEhv/jvzHukQvcVeVFD5SmFQwMNN\n"
			      "JPbMnq209wKBgAPKScJ32ZlvY3Rj1iYP/o53a7hLQGpt9SupiRNAGFNTUTrhtO+C\n"
			      "7v2vGXVfB7oNWfMkscSQnjuuPcSa3yTewn9Xnb8008oo8RvY6abpO3efhfCsinqo\n"
			      "ZXJQd64QeI9EwJKZOW9A/7VYMPIheP+vKgBPlTfwGHqrPgg+cJVAz2vpAoGAS0BF\n"
			      "9SspxMxGN/XDK9FHct44j88Sm+ALmuQw9qPqS/ShrLTpB+UcevAhMmDXDUv72NHL\n"
			      "fMXfok7T/uB74Lfe1+YJPNts1WoFlFacNTjnjK/Gb+R9RfY82Mk3rPufGwCt/Osv\n"
			      "49TgeZgwq1s1wAHb+l7bY3ervF/dURRJW4XD7AkCgYBefmjSKfCrpYZbAChxn4Nu\n"
			      "D9X8mW9BJbKZLuf5fv4efVbF7FsBzSAAVEa1JGTnWJNqNKVoTVH4a11WmFT0I6EF\n"
			      "sG6ub0MIYfKZ67BuYnucqoNxHTkCeUgenlShlgKSb2bge9G88Zfehn0mElNbSTks\n"
			      "kixqwIsA5x2MpwuGFe4OkA==\n"
			      "-----END PRIVATE KEY-----\n";
static const char key_ec[] = "-----BEGIN PRIVATE KEY-----\n"
			     "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHZLLz7LYjce6UR3I\n"
			     "llzxG7XjM7VsWGEHXgA03QF6d5ihRANCAASAB01WgYoEx8sD3oNLXbXLwdjxSXAF\n"
			     "nbD+yfNLNLsmQb30dYPneQNwqZJPe8aTpPUTt4rvmyHmLpaq9loiXI8f\n"
			     "-----END PRIVATE KEY-----\n";

/* --- certificates ------------------------------------------------------------ */

/* Everything the fixture made, freed by world_free(). */
struct world {
	EVP_PKEY *k_root, *k_int, *k_leaf, *k_old, *k_ec;
	X509 *root;     /* Example Root CA, 2020-01-01 .. 2045-01-01, in the store */
	X509 *inter;    /* Example Intermediate CA (RSA), 2021-06-01 .. 2031-06-01 */
	X509 *leaf_rsa; /* www.example.test, RSA, .. 2027-02-19T11:59:59Z (89 days) */
	X509 *leaf_ec;  /* www.example.test, P-256, must-staple, .. 2027-01-01 (40 days) */
	X509 *old_root; /* Old Root CA, self-signed, not in the store */
	X509 *expired;  /* old.example.test under Old Root CA, expired 2026-11-16T12:00Z */
	X509 *legacy;   /* legacy.example.test, self-signed, .. 2027-06-01 */
	X509_STORE *store;
};

static EVP_PKEY *key_of(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

/* "C=DE/O=Example Ltd/CN=x" as an X509_NAME (UTF-8 values). */
static X509_NAME *name_of(const char *spec)
{
	X509_NAME *n = X509_NAME_new();
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *p = buf; n && p && *p;) {
		char *end = strchr(p, '/'), *eq;

		if (end)
			*end = '\0';
		eq = strchr(p, '=');
		if (!eq ||
		    (*eq = '\0', !X509_NAME_add_entry_by_txt(n, p, MBSTRING_UTF8,
							     (unsigned char *)eq + 1, -1, -1, 0))) {
			X509_NAME_free(n);
			return NULL;
		}
		p = end ? end + 1 : NULL;
	}
	return n;
}

/* A certificate for key, issued by issuer (NULL: self-signed) with
 * issuer_key, through DER and back as the probe reads it; NULL on failure. */
static X509 *make_cert(const char *subject, const char *serial, const char *not_before,
		       const char *not_after, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		       const char *const *ext)
{
	X509 *x = X509_new(), *y = NULL;
	X509_NAME *subj = name_of(subject);
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	X509V3_CTX v3;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len, ok = x && subj && BN_hex2bn(&bn, serial) && (sn = BN_to_ASN1_INTEGER(bn, NULL)) &&
		      X509_set_version(x, X509_VERSION_3) && X509_set_serialNumber(x, sn) &&
		      X509_set_subject_name(x, subj) &&
		      X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subj) &&
		      ASN1_TIME_set_string_X509(X509_getm_notBefore(x), not_before) &&
		      ASN1_TIME_set_string_X509(X509_getm_notAfter(x), not_after) &&
		      X509_set_pubkey(x, key);

	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	for (size_t i = 0; ok && ext && ext[i]; i += 2) {
		X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &v3, ext[i], ext[i + 1]);

		ok = e && X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (ok)
		ok = X509_sign(x, issuer ? issuer_key : key, EVP_sha256()) > 0;
	if (ok && (len = i2d_X509(x, &der)) > 0) {
		p = der;
		y = d2i_X509(NULL, &p, len);
	}
	OPENSSL_free(der);
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	X509_NAME_free(subj);
	X509_free(x);
	return y;
}

static const char *const root_ext[] = {"basicConstraints",
				       "critical,CA:TRUE",
				       "keyUsage",
				       "critical,keyCertSign,cRLSign",
				       "subjectKeyIdentifier",
				       "hash",
				       NULL};
static const char *const int_ext[] = {"basicConstraints",
				      "critical,CA:TRUE,pathlen:0",
				      "keyUsage",
				      "critical,keyCertSign,cRLSign",
				      "subjectKeyIdentifier",
				      "hash",
				      "authorityKeyIdentifier",
				      "keyid:always",
				      NULL};
static const char *const rsa_leaf_ext[] = {
    "basicConstraints",
    "critical,CA:FALSE",
    "keyUsage",
    "critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage",
    "serverAuth,clientAuth",
    "subjectKeyIdentifier",
    "hash",
    "authorityKeyIdentifier",
    "keyid:always",
    "subjectAltName",
    "DNS:www.example.test,DNS:*.example.test,IP:192.0.2.7",
    "authorityInfoAccess",
    "OCSP;URI:http://ocsp.example.test/,caIssuers;URI:http://ca.example.test/int.der",
    "crlDistributionPoints",
    "URI:http://crl.example.test/int.crl",
    NULL};
static const char *const ec_leaf_ext[] = {"basicConstraints",
					  "critical,CA:FALSE",
					  "keyUsage",
					  "critical,digitalSignature",
					  "extendedKeyUsage",
					  "serverAuth",
					  "authorityKeyIdentifier",
					  "keyid:always",
					  "subjectAltName",
					  "DNS:www.example.test",
					  "tlsfeature",
					  "status_request",
					  NULL};
static const char *const old_leaf_ext[] = {"extendedKeyUsage", "serverAuth", "subjectAltName",
					   "DNS:old.example.test", NULL};
static const char *const legacy_ext[] = {"subjectAltName", "DNS:legacy.example.test", NULL};

static void world_free(struct world *w)
{
	X509 *certs[] = {w->root,     w->inter,   w->leaf_rsa, w->leaf_ec,
			 w->old_root, w->expired, w->legacy};
	EVP_PKEY *keys[] = {w->k_root, w->k_int, w->k_leaf, w->k_old, w->k_ec};

	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	X509_STORE_free(w->store);
	memset(w, 0, sizeof(*w));
}

static int world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->k_root = key_of(key_root);
	w->k_int = key_of(key_int);
	w->k_leaf = key_of(key_leaf);
	w->k_old = key_of(key_old);
	w->k_ec = key_of(key_ec);
	if (!w->k_root || !w->k_int || !w->k_leaf || !w->k_old || !w->k_ec)
		return -1;
	w->root = make_cert("C=DE/O=Example Ltd/CN=Example Root CA", "01", "20200101000000Z",
			    "20450101000000Z", w->k_root, NULL, NULL, root_ext);
	w->inter =
	    make_cert("C=DE/O=Example Ltd/CN=Example Intermediate CA", "1000", "20210601000000Z",
		      "20310601000000Z", w->k_int, w->root, w->k_root, int_ext);
	w->leaf_rsa = make_cert("C=DE/O=Example Ltd/CN=www.example.test", "00FEDCBA9876543210",
				"20260901000000Z", "20270219115959Z", w->k_leaf, w->inter, w->k_int,
				rsa_leaf_ext);
	w->leaf_ec = make_cert("C=DE/O=Example Ltd/CN=www.example.test", "2A", "20261001000000Z",
			       "20270101000000Z", w->k_ec, w->inter, w->k_int, ec_leaf_ext);
	w->old_root = make_cert("O=Legacy Inc/CN=Old Root CA", "07", "20100101000000Z",
				"20300101000000Z", w->k_old, NULL, NULL, root_ext);
	w->expired = make_cert("CN=old.example.test", "0BAD", "20241116120000Z", "20261116120000Z",
			       w->k_leaf, w->old_root, w->k_old, old_leaf_ext);
	w->legacy = make_cert("O=Legacy Inc/CN=legacy.example.test", "-05", "20250601000000Z",
			      "20270601000000Z", w->k_leaf, NULL, NULL, legacy_ext);
	w->store = X509_STORE_new();
	if (!w->root || !w->inter || !w->leaf_rsa || !w->leaf_ec || !w->old_root || !w->expired ||
	    !w->legacy || !w->store || !X509_STORE_add_cert(w->store, w->root))
		return -1;
	return 0;
}

/* --- reports, filled as the engine fills them ------------------------------- */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q)
		abort();
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static struct tls_report *report_new(const char *host, const char *ip, uint16_t port,
				     const char *sni, unsigned connections)
{
	struct tls_report *r = calloc(1, sizeof(*r));
	const char *why;

	if (!r)
		abort();
	r->host = xstrdup(host);
	if (ip && pp_parse_ip(ip, port, &r->ip, &why) < 0)
		abort();
	r->port = port;
	r->sni = sni ? xstrdup(sni) : NULL;
	r->start = (struct timespec){NOW, 0};
	r->end = (struct timespec){NOW + 1, 250000000};
	r->connections = connections;
	r->now = NOW;
	return r;
}

static void add_cipher(struct tls_report *r, enum tls_proto p, uint16_t id, uint32_t v2,
		       uint16_t group, uint16_t dh_bits)
{
	r->ciphers = xrealloc(r->ciphers, (r->nciphers + 1) * sizeof(*r->ciphers));
	r->ciphers[r->nciphers++] = (struct tls_accepted){p, id, v2, group, dh_bits};
}

static void set_order(struct tls_report *r, enum tls_proto p, enum tls_order o, const uint16_t *ids,
		      size_t n)
{
	r->order[p] = o;
	if (!n)
		return;
	r->server_order[p] = xrealloc(NULL, n * sizeof(*ids));
	memcpy(r->server_order[p], ids, n * sizeof(*ids));
	r->nserver_order[p] = n;
}

static void add_group(struct tls_report *r, uint16_t id, unsigned protos)
{
	r->groups = xrealloc(r->groups, (r->ngroups + 1) * sizeof(*r->groups));
	r->groups[r->ngroups++] = (struct tls_group){id, protos};
}

static void add_note(struct tls_report *r, const char *s)
{
	r->notes = xrealloc(r->notes, (r->nnotes + 1) * sizeof(*r->notes));
	r->notes[r->nnotes++] = xstrdup(s);
}

/* A chain as sent, summarised and verified against the world's store for
 * host, owned by the report (DER from i2d_X509, as the engine keeps it). */
static struct tls_deployment *add_dep(struct tls_report *r, const struct world *w,
				      X509 *const *chain, size_t n, const char *host,
				      unsigned found_by, uint16_t version, uint16_t suite)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct tls_verify_opts o = {.store = w->store, .host = host, .now = NOW};
	struct tls_deployment *d;

	r->deps = xrealloc(r->deps, (r->ndeps + 1) * sizeof(*r->deps));
	d = &r->deps[r->ndeps++];
	memset(d, 0, sizeof(*d));
	d->n = n;
	d->der = xrealloc(NULL, n * sizeof(*d->der));
	d->der_len = xrealloc(NULL, n * sizeof(*d->der_len));
	d->certs = calloc(n, sizeof(*d->certs));
	if (!sk || !d->certs)
		abort();
	for (size_t i = 0; i < n; i++) {
		int len;

		d->der[i] = NULL;
		len = i2d_X509(chain[i], &d->der[i]);
		if (len <= 0 || tls_cert_summarize(chain[i], NOW, &d->certs[i]) < 0 ||
		    !sk_X509_push(sk, chain[i]))
			abort();
		d->der_len[i] = (size_t)len;
	}
	if (tls_chain_verify(sk, &o, &d->chain) < 0)
		abort();
	sk_X509_free(sk);
	d->found_by = found_by;
	d->version = version;
	d->suite = suite;
	return d;
}

#define P(x)   (1u << TLS_P_##x)
#define X25519 0x001D
#define P256   0x0017
#define P384   0x0018
#define MLKEM  0x11EC

static void set_support(struct tls_report *r, const enum tls_support s[TLS_P_COUNT])
{
	memcpy(r->support, s, sizeof(r->support));
}

/* TLS 1.2 and 1.3 in server order, an RSA and an ECDSA chain, a good staple. */
static struct tls_report *report_modern(const struct world *w)
{
	static const enum tls_support sup[] = {TLS_SUPPORT_NO, TLS_SUPPORT_NO,  TLS_SUPPORT_NO,
					       TLS_SUPPORT_NO, TLS_SUPPORT_YES, TLS_SUPPORT_YES};
	static const uint16_t o12[] = {0xC02B, 0xC030, 0xC02F, 0xCCA8, 0xC013};
	static const uint16_t o13[] = {0x1302, 0x1303, 0x1301};
	struct tls_report *r =
	    report_new("www.example.test", "192.0.2.7", 443, "www.example.test", 41);
	X509 *rsa[] = {w->leaf_rsa, w->inter}, *ec[] = {w->leaf_ec, w->inter};
	struct tls_deployment *d;

	set_support(r, sup);
	/* found in another order than the server's: the writers reorder */
	add_cipher(r, TLS_P_TLS12, 0xC030, 0, X25519, 0);
	add_cipher(r, TLS_P_TLS12, 0xC02B, 0, X25519, 0);
	add_cipher(r, TLS_P_TLS12, 0xC02F, 0, X25519, 0);
	add_cipher(r, TLS_P_TLS12, 0xC013, 0, X25519, 0);
	add_cipher(r, TLS_P_TLS12, 0xCCA8, 0, X25519, 0);
	add_cipher(r, TLS_P_TLS13, 0x1302, 0, MLKEM, 0);
	add_cipher(r, TLS_P_TLS13, 0x1303, 0, MLKEM, 0);
	add_cipher(r, TLS_P_TLS13, 0x1301, 0, MLKEM, 0);
	set_order(r, TLS_P_TLS12, TLS_ORDER_SERVER, o12, 5);
	set_order(r, TLS_P_TLS13, TLS_ORDER_SERVER, o13, 3);
	add_group(r, X25519, P(TLS12) | P(TLS13));
	add_group(r, P256, P(TLS12) | P(TLS13));
	add_group(r, P384, P(TLS12));
	add_group(r, MLKEM, P(TLS13));
	d = add_dep(r, w, rsa, 2, "www.example.test",
		    TLS_CERT_PROBE_RSA | TLS_CERT_PROBE_SNI | TLS_CERT_PROBE_NO_SNI, 0x0304,
		    0x1302);
	d->ocsp = (struct tls_ocsp_info){.status = TLS_OCSP_GOOD,
					 .response_status = 0,
					 .signature_checked = true,
					 .this_update = "2026-11-20T00:00:00Z",
					 .this_update_t = NOW - 129600,
					 .next_update = "2026-11-27T00:00:00Z",
					 .next_update_t = NOW + 475200,
					 .revocation_reason = -1};
	d->ocsp_der = xrealloc(NULL, 3);
	memcpy(d->ocsp_der, "\x30\x03\x0a", 3);
	d->ocsp_der_len = 3;
	add_dep(r, w, ec, 2, "www.example.test", TLS_CERT_PROBE_ECDSA | TLS_CERT_PROBE_SNI, 0x0304,
		0x1302);
	return r;
}

/* A server that follows the client's order, behind SMTP STARTTLS. */
static struct tls_report *report_client_order(const struct world *w)
{
	static const enum tls_support sup[] = {TLS_SUPPORT_NO, TLS_SUPPORT_NO,  TLS_SUPPORT_NO,
					       TLS_SUPPORT_NO, TLS_SUPPORT_YES, TLS_SUPPORT_YES};
	struct tls_report *r =
	    report_new("mail.example.test", "192.0.2.25", 587, "mail.example.test", 23);
	X509 *rsa[] = {w->leaf_rsa, w->inter};

	r->starttls = TLS_STARTTLS_SMTP;
	set_support(r, sup);
	add_cipher(r, TLS_P_TLS12, 0x002F, 0, 0, 0);
	add_cipher(r, TLS_P_TLS12, 0x009C, 0, 0, 0);
	add_cipher(r, TLS_P_TLS12, 0xC02F, 0, P256, 0);
	add_cipher(r, TLS_P_TLS12, 0xC030, 0, P256, 0);
	add_cipher(r, TLS_P_TLS13, 0x1301, 0, X25519, 0);
	set_order(r, TLS_P_TLS12, TLS_ORDER_CLIENT, NULL, 0);
	set_order(r, TLS_P_TLS13, TLS_ORDER_INDETERMINATE, NULL, 0);
	add_group(r, P256, P(TLS12));
	add_group(r, X25519, P(TLS13));
	add_note(r, "TLSv1.2: 64-suite hello reset, retried with 32");
	add_dep(r, w, rsa, 2, "mail.example.test",
		TLS_CERT_PROBE_RSA | TLS_CERT_PROBE_ECDSA | TLS_CERT_PROBE_EDDSA |
		    TLS_CERT_PROBE_SNI | TLS_CERT_PROBE_NO_SNI,
		0x0304, 0x1301);
	return r;
}

/* Connection refused: nothing but the error. */
static struct tls_report *report_refused(void)
{
	struct tls_report *r =
	    report_new("down.example.test", "192.0.2.9", 443, "down.example.test", 1);

	r->end = (struct timespec){NOW, 1500000};
	r->error = PP_ERROR_REFUSED;
	r->error_detail = xstrdup("connect to 192.0.2.9 port 443: RST received");
	return r;
}

/* An expired leaf under a root the store does not have (root sent). */
static struct tls_report *report_expired(const struct world *w)
{
	static const enum tls_support sup[] = {TLS_SUPPORT_NO, TLS_SUPPORT_NO,  TLS_SUPPORT_NO,
					       TLS_SUPPORT_NO, TLS_SUPPORT_YES, TLS_SUPPORT_NO};
	struct tls_report *r =
	    report_new("old.example.test", "192.0.2.30", 443, "old.example.test", 9);
	X509 *chain[] = {w->expired, w->old_root};

	set_support(r, sup);
	add_cipher(r, TLS_P_TLS12, 0xC02F, 0, P256, 0);
	set_order(r, TLS_P_TLS12, TLS_ORDER_INDETERMINATE, NULL, 0);
	add_group(r, P256, P(TLS12));
	add_dep(r, w, chain, 2, "old.example.test", TLS_CERT_PROBE_RSA | TLS_CERT_PROBE_SNI, 0x0303,
		0xC02F);
	return r;
}

/* SSLv2, SSLv3 and TLS 1.0 with 3DES and RC4; TLS 1.1 without a verdict. */
static struct tls_report *report_legacy(const struct world *w)
{
	static const enum tls_support sup[] = {TLS_SUPPORT_YES,   TLS_SUPPORT_YES, TLS_SUPPORT_YES,
					       TLS_SUPPORT_ERROR, TLS_SUPPORT_NO,  TLS_SUPPORT_NO};
	static const uint16_t o3[] = {0x0005, 0x000A, 0x0004};
	struct tls_report *r = report_new("legacy.example.test", "192.0.2.40", 443, NULL, 17);
	X509 *chain[] = {w->legacy};

	set_support(r, sup);
	add_cipher(r, TLS_P_SSL2, 0, 0x0700C0, 0, 0);
	add_cipher(r, TLS_P_SSL2, 0, 0x010080, 0, 0);
	add_cipher(r, TLS_P_SSL3, 0x000A, 0, 0, 0);
	add_cipher(r, TLS_P_SSL3, 0x0005, 0, 0, 0);
	add_cipher(r, TLS_P_SSL3, 0x0004, 0, 0, 0);
	add_cipher(r, TLS_P_TLS10, 0x000A, 0, 0, 0);
	add_cipher(r, TLS_P_TLS10, 0x0016, 0, 0, 1024);
	add_cipher(r, TLS_P_TLS10, 0x0005, 0, 0, 0);
	add_cipher(r, TLS_P_TLS10, 0x002F, 0, 0, 0);
	set_order(r, TLS_P_SSL3, TLS_ORDER_SERVER, o3, 3);
	set_order(r, TLS_P_TLS10, TLS_ORDER_CLIENT, NULL, 0);
	add_note(r, "TLSv1.1: 3 probes timed out without a verdict");
	add_dep(r, w, chain, 1, "legacy.example.test", TLS_CERT_PROBE_RSA | TLS_CERT_PROBE_NO_SNI,
		0x0301, 0x002F);
	return r;
}

/* --- capture and compare ------------------------------------------------------ */

/* Collects what a writer writes to a FILE. */
struct capture {
	char *data;
	size_t len;
	FILE *f;
};

static FILE *capture_open(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->data, &c->len);
	return c->f;
}

static const char *capture_close(struct capture *c)
{
	if (c->f)
		fclose(c->f);
	c->f = NULL;
	return c->data ? c->data : "";
}

/* 0 when got == want; otherwise saves got and names the first different line. */
static int same_text(const char *name, const char *got, const char *want)
{
	char path[128];
	FILE *f;
	int line = 1;
	size_t i = 0;

	if (!strcmp(got, want))
		return 0;
	while (got[i] && got[i] == want[i]) {
		line += got[i] == '\n';
		i++;
	}
	snprintf(path, sizeof(path), "/tmp/pp_tls_out_%s.got", name);
	f = fopen(path, "w");
	if (f) {
		fputs(got, f);
		fclose(f);
	}
	while (i && got[i - 1] != '\n')
		i--;
	fprintf(stderr, "%s differs at line %d (whole output in %s)\n  got:  %.*s\n  want: %.*s\n",
		name, line, path, (int)strcspn(got + i, "\n"), got + i,
		(int)strcspn(want + i, "\n"), want + i);
	return 1;
}

#define ASSERT_SAME(name, got, want) ASSERT_EQ(same_text(name, got, want), 0)

static bool have_command(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Runs jq -e FILTER over data; the exit status, 0 when true. */
static int jq_check(const char *data, const char *filter)
{
	char path[] = "/tmp/pp_tls_out_json.XXXXXX", cmd[4096];
	int fd = mkstemp(path), st;
	size_t len = strlen(data);

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "jq -e '%s' '%s' > /dev/null", filter, path);
	st = system(cmd);
	unlink(path);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static const char *text_of(struct capture *c, const struct tls_report *r)
{
	if (!capture_open(c) || tls_text_report(c->f, r) < 0)
		return "(writer failed)";
	return capture_close(c);
}

static const char *json_of(struct capture *c, const struct tls_report *const *r, size_t n)
{
	int rc = capture_open(c) ? tls_json_begin(c->f) : -1;

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = tls_json_report(c->f, r[i], i == 0);
	if (rc == 0)
		rc = tls_json_end(c->f);
	return rc == 0 ? capture_close(c) : "(writer failed)";
}

static const char *nagios_of(struct capture *c, const struct tls_report *const *r, size_t n,
			     int warn, int crit, int *state)
{
	*state = capture_open(c) ? tls_nagios_write(c->f, r, n, warn, crit) : -1;
	return *state >= 0 ? capture_close(c) : "(writer failed)";
}

/* --- groups and the report model ------------------------------------------------ */

TEST_IMPL(tls_groups_table_is_sorted_named_and_sized_as_openssl_says)
{
	for (size_t i = 1; i < tls_named_groups_count; i++)
		ASSERT_TRUE(tls_named_groups[i - 1].id < tls_named_groups[i].id);
	ASSERT_STR_EQ(tls_group_name(0x0017), "secp256r1");
	ASSERT_STR_EQ(tls_group_name(0x001D), "x25519");
	ASSERT_STR_EQ(tls_group_name(0x001E), "x448");
	ASSERT_STR_EQ(tls_group_name(0x0100), "ffdhe2048");
	ASSERT_STR_EQ(tls_group_name(0x0104), "ffdhe8192");
	ASSERT_STR_EQ(tls_group_name(0x001F), "brainpoolP256r1tls13");
	ASSERT_STR_EQ(tls_group_name(0x11EB), "SecP256r1MLKEM768");
	ASSERT_STR_EQ(tls_group_name(0x11EC), "X25519MLKEM768");
	ASSERT_STR_EQ(tls_group_name(0x11ED), "SecP384r1MLKEM1024");
	ASSERT_STR_EQ(tls_group_name(0x0201), "MLKEM768");
	ASSERT_TRUE(tls_group_name(0x0A0A) == NULL); /* GREASE */
	ASSERT_TRUE(tls_group_name(0xFE00) == NULL); /* private use */
	ASSERT_TRUE(tls_group_name(0) == NULL);
	ASSERT_UEQ(tls_group_by_name("X25519")->id, 0x001D);
	ASSERT_UEQ(tls_group_by_name("x25519mlkem768")->id, 0x11EC);
	ASSERT_TRUE(tls_group_by_name("P-256") == NULL);
	ASSERT_TRUE(tls_group_by_name(NULL) == NULL);
	ASSERT_EQ(tls_group_by_id(0x11EC)->kind, TLS_GROUP_KIND_HYBRID);
	ASSERT_STR_EQ(tls_group_kind_name(tls_group_by_id(0x0101)->kind), "ff");
	ASSERT_UEQ(tls_group_by_id(0x0101)->bits, 3072);
	ASSERT_TRUE(tls_group_by_id(0x001F)->tls13_only && !tls_group_by_id(0x001A)->tls13_only);

	/* every EC size is what OpenSSL reports for a key on that curve */
	for (size_t i = 0; i < tls_named_groups_count; i++) {
		const struct tls_named_group *g = &tls_named_groups[i];
		char sn[64];
		int nid;

		if (g->kind != TLS_GROUP_KIND_EC)
			continue;
		if (g->id == 0x001D || g->id == 0x001E) {
			EVP_PKEY *k =
			    EVP_PKEY_Q_keygen(NULL, NULL, g->id == 0x001D ? "X25519" : "X448");

			ASSERT_TRUE(k != NULL);
			ASSERT_EQ(EVP_PKEY_get_bits(k), g->bits);
			EVP_PKEY_free(k);
			continue;
		}
		/* OpenSSL's short names: secp256r1 is prime256v1, secp192r1 prime192v1,
		 * brainpool...tls13 the same curve as brainpool...r1, curveSM2 SM2 */
		snprintf(sn, sizeof(sn), "%s", g->name);
		if (!strcmp(sn, "secp256r1") || !strcmp(sn, "secp192r1"))
			snprintf(sn, sizeof(sn), "prime%sv1", g->name + 4);
		else if (!strcmp(sn, "curveSM2"))
			snprintf(sn, sizeof(sn), "SM2");
		else if (strstr(sn, "tls13"))
			sn[strlen(sn) - 5] = '\0';
		nid = OBJ_sn2nid(sn);
		if (nid == NID_undef)
			continue; /* GOST: not in OpenSSL without the engine */
		{
			EC_GROUP *eg = EC_GROUP_new_by_curve_name(nid);

			ASSERT_TRUE(eg != NULL);
			if (EC_GROUP_order_bits(eg) != g->bits)
				fprintf(stderr, "%s: %d bits, table %u\n", g->name,
					EC_GROUP_order_bits(eg), g->bits);
			ASSERT_EQ(EC_GROUP_order_bits(eg), g->bits);
			EC_GROUP_free(eg);
		}
	}
	return 0;
}

TEST_IMPL(tls_report_proto_slots_map_to_wire_versions)
{
	static const uint16_t v[] = {0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304};

	for (int p = 0; p < TLS_P_COUNT; p++) {
		ASSERT_UEQ(tls_proto_version(p), v[p]);
		ASSERT_EQ(tls_proto_of_version(v[p]), p);
	}
	ASSERT_UEQ(tls_proto_version(TLS_P_COUNT), 0);
	ASSERT_EQ(tls_proto_of_version(0x0305), -1);
	ASSERT_EQ(tls_proto_of_version(0x7F1C), -1);
	ASSERT_STR_EQ(tls_out_proto_name(TLS_P_SSL2), "SSLv2");
	ASSERT_STR_EQ(tls_out_proto_name(TLS_P_TLS13), "TLSv1.3");
	return 0;
}

TEST_IMPL(tls_report_earliest_expiry_and_invalid_chains)
{
	struct world w;
	struct tls_report *modern, *expired, *refused, *legacy;

	ASSERT_EQ(world_init(&w), 0);
	modern = report_modern(&w);
	expired = report_expired(&w);
	refused = report_refused();
	legacy = report_legacy(&w);
	/* the ECDSA leaf (2027-01-01) ends before the RSA leaf (2027-02-19T11:59:59Z) */
	ASSERT_EQ(tls_report_earliest_expiry(modern), 1798761600);
	ASSERT_TRUE(!tls_report_any_invalid(modern));
	ASSERT_EQ(tls_report_earliest_expiry(expired), NOW - 5 * 86400);
	ASSERT_TRUE(tls_report_any_invalid(expired));
	ASSERT_EQ(tls_report_earliest_expiry(refused), 0);
	ASSERT_TRUE(!tls_report_any_invalid(refused));
	ASSERT_TRUE(tls_report_any_invalid(legacy)); /* self-signed */
	/* verified, but for another name: invalid too */
	modern->deps[1].chain.hostname_match = false;
	ASSERT_TRUE(tls_report_any_invalid(modern));
	ASSERT_EQ(tls_out_days(NOW - 1, NOW), -1);
	ASSERT_EQ(tls_out_days(NOW + 86399, NOW), 0);
	ASSERT_EQ(tls_out_days(NOW - 86400, NOW), -1);
	ASSERT_EQ(tls_out_days(NOW - 86401, NOW), -2);
	tls_report_free(modern);
	tls_report_free(expired);
	tls_report_free(refused);
	tls_report_free(legacy);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_report_free_releases_every_part_and_accepts_null)
{
	struct world w;
	struct tls_report *r;

	tls_report_free(NULL);
	ASSERT_EQ(world_init(&w), 0);
	/* every owned part at once: strings, suites, orders, groups, notes, chains
	 * with DER, summaries and a staple; ASan (PP_SANITIZE) reports any leak */
	r = report_modern(&w);
	free(r->error_detail);
	r->error_detail = xstrdup("kept after a late failure");
	add_note(r, "one");
	add_note(r, "two");
	tls_report_free(r);
	/* an empty report, and one with only an error */
	r = calloc(1, sizeof(*r));
	ASSERT_TRUE(r != NULL);
	tls_report_free(r);
	tls_report_free(report_refused());
	world_free(&w);
	return 0;
}

/* --- text ---------------------------------------------------------------------- */

/* clang-format off */
static const char modern_text[] =
	"www.example.test:443 [192.0.2.7]\n"
	"  SNI            www.example.test\n"
	"  STARTTLS       none\n"
	"  Scanned        2026-11-21T12:00:00.000Z, 1.250 s, 41 connections\n"
	"\n"
	"Protocols\n"
	"  SSLv2          disabled\n"
	"  SSLv3          disabled\n"
	"  TLSv1.0        disabled\n"
	"  TLSv1.1        disabled\n"
	"  TLSv1.2        enabled\n"
	"  TLSv1.3        enabled\n"
	"\n"
	"Cipher suites\n"
	"  TLSv1.2: server order, most preferred first\n"
	"    strong      128  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256      ECDHE-ECDSA-AES128-GCM-SHA256  x25519 253 bits\n"
	"    strong      256  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384        ECDHE-RSA-AES256-GCM-SHA384    x25519 253 bits\n"
	"    strong      128  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256        ECDHE-RSA-AES128-GCM-SHA256    x25519 253 bits\n"
	"    strong      256  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256  ECDHE-RSA-CHACHA20-POLY1305    x25519 253 bits\n"
	"    acceptable  128  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA           ECDHE-RSA-AES128-SHA           x25519 253 bits\n"
	"  TLSv1.3: server order, most preferred first\n"
	"    strong      256  TLS_AES_256_GCM_SHA384                       TLS_AES_256_GCM_SHA384         X25519MLKEM768\n"
	"    strong      256  TLS_CHACHA20_POLY1305_SHA256                 TLS_CHACHA20_POLY1305_SHA256   X25519MLKEM768\n"
	"    strong      128  TLS_AES_128_GCM_SHA256                       TLS_AES_128_GCM_SHA256         X25519MLKEM768\n"
	"  Key exchange: the group the server chose from portprobe's offer; other clients may get another.\n"
	"\n"
	"Key exchange groups (accepted from portprobe's offer)\n"
	"  x25519          0x001D   253 bits  TLSv1.2  TLSv1.3\n"
	"  secp256r1       0x0017   256 bits  TLSv1.2  TLSv1.3\n"
	"  secp384r1       0x0018   384 bits  TLSv1.2\n"
	"  X25519MLKEM768  0x11EC             TLSv1.3\n"
	"\n"
	"Certificates: 2 chains\n"
	"  Chain 1 of 2, found by rsa, sni, no-sni; first handshake TLSv1.3 TLS_AES_256_GCM_SHA384\n"
	"    [0] CN=www.example.test,O=Example Ltd,C=DE\n"
	"        issuer         CN=Example Intermediate CA,O=Example Ltd,C=DE\n"
	"        DNS names      www.example.test, *.example.test\n"
	"        IP names       192.0.2.7\n"
	"        serial         FEDCBA9876543210\n"
	"        valid          2026-09-01T00:00:00Z to 2027-02-19T11:59:59Z (89 days left)\n"
	"        key            RSA 2048 bits\n"
	"        signature      sha256WithRSAEncryption\n"
	"        SHA-256        1E:12:D8:96:16:81:6C:36:B4:CF:21:28:BF:85:BD:45:03:EE:0E:67:A3:11:DA:EB:F9:CF:F3:4D:70:C5:73:36\n"
	"        SPKI pin       GCNJUur8XihvTI62P7gxgCqiDUsANiDOOggSM0Lwf/w=\n"
	"        key usage      digitalSignature, keyEncipherment\n"
	"        ext key usage  serverAuth, clientAuth\n"
	"        OCSP           http://ocsp.example.test/\n"
	"        CA issuers     http://ca.example.test/int.der\n"
	"        CRL            http://crl.example.test/int.crl\n"
	"    [1] CN=Example Intermediate CA,O=Example Ltd,C=DE\n"
	"        issuer         CN=Example Root CA,O=Example Ltd,C=DE\n"
	"        serial         1000\n"
	"        valid          2021-06-01T00:00:00Z to 2031-06-01T00:00:00Z (1652 days left)\n"
	"        key            RSA 2048 bits\n"
	"        signature      sha256WithRSAEncryption\n"
	"        SHA-256        D7:A6:37:70:52:3A:F1:0D:DD:58:3F:08:C5:B2:FC:7C:1F:56:D5:9F:71:EC:00:D7:DA:C3:FF:1D:87:F2:11:FB\n"
	"        SPKI pin       jivlZySln6nPjnwmISStegNFKYTFDX+l/aaXsSKBRU8=\n"
	"        key usage      keyCertSign, cRLSign\n"
	"        flags          CA (path length 0)\n"
	"    verdict        ok\n"
	"    hostname       matches\n"
	"    chain          2 sent, in order, root not included; verified chain of 3\n"
	"    OCSP staple    good, this update 2026-11-20T00:00:00Z, next update 2026-11-27T00:00:00Z\n"
	"    expiry         leaf 2027-02-19T11:59:59Z (89 days)\n"
	"                   earliest sent [0] 2027-02-19T11:59:59Z (89 days)\n"
	"                   earliest verified 2027-02-19T11:59:59Z (89 days)\n"
	"  Chain 2 of 2, found by ecdsa, sni; first handshake TLSv1.3 TLS_AES_256_GCM_SHA384\n"
	"    [0] CN=www.example.test,O=Example Ltd,C=DE\n"
	"        issuer         CN=Example Intermediate CA,O=Example Ltd,C=DE\n"
	"        DNS names      www.example.test\n"
	"        serial         2A\n"
	"        valid          2026-10-01T00:00:00Z to 2027-01-01T00:00:00Z (40 days left)\n"
	"        key            EC 256 bits (prime256v1, P-256)\n"
	"        signature      sha256WithRSAEncryption\n"
	"        SHA-256        BF:6B:8F:81:1C:E8:91:0A:D3:AF:FD:88:90:61:ED:97:6F:42:4F:3C:85:81:12:2D:CF:A9:15:49:D5:D8:E6:A0\n"
	"        SPKI pin       dd7NUdLz/hfEnXqlyRDLsmOF/atbQ5Oa9FoGrKMj1ts=\n"
	"        key usage      digitalSignature\n"
	"        ext key usage  serverAuth\n"
	"        flags          must-staple\n"
	"    [1] CN=Example Intermediate CA,O=Example Ltd,C=DE\n"
	"        issuer         CN=Example Root CA,O=Example Ltd,C=DE\n"
	"        serial         1000\n"
	"        valid          2021-06-01T00:00:00Z to 2031-06-01T00:00:00Z (1652 days left)\n"
	"        key            RSA 2048 bits\n"
	"        signature      sha256WithRSAEncryption\n"
	"        SHA-256        D7:A6:37:70:52:3A:F1:0D:DD:58:3F:08:C5:B2:FC:7C:1F:56:D5:9F:71:EC:00:D7:DA:C3:FF:1D:87:F2:11:FB\n"
	"        SPKI pin       jivlZySln6nPjnwmISStegNFKYTFDX+l/aaXsSKBRU8=\n"
	"        key usage      keyCertSign, cRLSign\n"
	"        flags          CA (path length 0)\n"
	"    verdict        ok\n"
	"    hostname       matches\n"
	"    chain          2 sent, in order, root not included; verified chain of 3\n"
	"    OCSP staple    none\n"
	"    expiry         leaf 2027-01-01T00:00:00Z (40 days)\n"
	"                   earliest sent [0] 2027-01-01T00:00:00Z (40 days)\n"
	"                   earliest verified 2027-01-01T00:00:00Z (40 days)\n"
	"\n";
/* clang-format on */

TEST_IMPL(tls_text_modern_server_lists_server_order_and_both_chains)
{
	struct world w;
	struct tls_report *r;
	struct capture c;

	ASSERT_EQ(world_init(&w), 0);
	r = report_modern(&w);
	ASSERT_SAME("modern_text", text_of(&c, r), modern_text);
	free(c.data);
	tls_report_free(r);
	world_free(&w);
	return 0;
}

/* clang-format off */
static const char client_text[] =
	"mail.example.test:587 [192.0.2.25]\n"
	"  SNI            mail.example.test\n"
	"  STARTTLS       smtp\n"
	"  Scanned        2026-11-21T12:00:00.000Z, 1.250 s, 23 connections\n"
	"\n"
	"Protocols\n"
	"  SSLv2          disabled\n"
	"  SSLv3          disabled\n"
	"  TLSv1.0        disabled\n"
	"  TLSv1.1        disabled\n"
	"  TLSv1.2        enabled\n"
	"  TLSv1.3        enabled\n"
	"\n"
	"Cipher suites\n"
	"  TLSv1.2: client order (the server follows the client), listed strongest first\n"
	"    strong      256  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384  ECDHE-RSA-AES256-GCM-SHA384  secp256r1 256 bits\n"
	"    strong      128  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256  ECDHE-RSA-AES128-GCM-SHA256  secp256r1 256 bits\n"
	"    acceptable  128  TLS_RSA_WITH_AES_128_GCM_SHA256        AES128-GCM-SHA256\n"
	"    weak        128  TLS_RSA_WITH_AES_128_CBC_SHA           AES128-SHA\n"
	"  TLSv1.3: order indeterminate, listed strongest first\n"
	"    strong      128  TLS_AES_128_GCM_SHA256                 TLS_AES_128_GCM_SHA256       x25519 253 bits\n"
	"  Key exchange: the group the server chose from portprobe's offer; other clients may get another.\n"
	"\n"
	"Key exchange groups (accepted from portprobe's offer)\n"
	"  secp256r1  0x0017   256 bits  TLSv1.2\n"
	"  x25519     0x001D   253 bits  TLSv1.3\n"
	"\n"
	"Certificates: 1 chain\n"
	"  Chain 1 of 1, found by rsa, ecdsa, eddsa, sni, no-sni; first handshake TLSv1.3 TLS_AES_128_GCM_SHA256\n"
	"    [0] CN=www.example.test,O=Example Ltd,C=DE\n"
	"        issuer         CN=Example Intermediate CA,O=Example Ltd,C=DE\n"
	"        DNS names      www.example.test, *.example.test\n"
	"        IP names       192.0.2.7\n"
	"        serial         FEDCBA9876543210\n"
	"        valid          2026-09-01T00:00:00Z to 2027-02-19T11:59:59Z (89 days left)\n"
	"        key            RSA 2048 bits\n"
	"        signature      sha256WithRSAEncryption\n"
	"        SHA-256        1E:12:D8:96:16:81:6C:36:B4:CF:21:28:BF:85:BD:45:03:EE:0E:67:A3:11:DA:EB:F9:CF:F3:4D:70:C5:73:36\n"
	"        SPKI pin       GCNJUur8XihvTI62P7gxgCqiDUsANiDOOggSM0Lwf/w=\n"
	"        key usage      digitalSignature, keyEncipherment\n"
	"        ext key usage  serverAuth, clientAuth\n"
	"        OCSP           http://ocsp.example.test/\n"
	"        CA issuers     http://ca.example.test/int.der\n"
	"        CRL            http://crl.example.test/int.crl\n"
	"    [1] CN=Example Intermediate CA,O=Example Ltd,C=DE\n"
	"        issuer         CN=Example Root CA,O=Example Ltd,C=DE\n"
	"        serial         1000\n"
	"        valid          2021-06-01T00:00:00Z to 2031-06-01T00:00:00Z (1652 days left)\n"
	"        key            RSA 2048 bits\n"
	"        signature      sha256WithRSAEncryption\n"
	"        SHA-256        D7:A6:37:70:52:3A:F1:0D:DD:58:3F:08:C5:B2:FC:7C:1F:56:D5:9F:71:EC:00:D7:DA:C3:FF:1D:87:F2:11:FB\n"
	"        SPKI pin       jivlZySln6nPjnwmISStegNFKYTFDX+l/aaXsSKBRU8=\n"
	"        key usage      keyCertSign, cRLSign\n"
	"        flags          CA (path length 0)\n"
	"    verdict        ok\n"
	"    hostname       matches\n"
	"    chain          2 sent, in order, root not included; verified chain of 3\n"
	"    OCSP staple    none\n"
	"    expiry         leaf 2027-02-19T11:59:59Z (89 days)\n"
	"                   earliest sent [0] 2027-02-19T11:59:59Z (89 days)\n"
	"                   earliest verified 2027-02-19T11:59:59Z (89 days)\n"
	"\n"
	"Notes\n"
	"  TLSv1.2: 64-suite hello reset, retried with 32\n"
	"\n";
/* clang-format on */

TEST_IMPL(tls_text_client_order_is_never_called_a_preference)
{
	struct world w;
	struct tls_report *r;
	struct capture c;
	const char *t;

	ASSERT_EQ(world_init(&w), 0);
	r = report_client_order(&w);
	t = text_of(&c, r);
	ASSERT_SAME("client_text", t, client_text);
	ASSERT_TRUE(strstr(t, "referred") == NULL && strstr(t, "server order") == NULL);
	free(c.data);
	tls_report_free(r);
	world_free(&w);
	return 0;
}

/* clang-format off */
static const char refused_text[] =
	"down.example.test:443 [192.0.2.9]\n"
	"  SNI            down.example.test\n"
	"  STARTTLS       none\n"
	"  Scanned        2026-11-21T12:00:00.000Z, 0.002 s, 1 connection\n"
	"  Error          Connection refused: connect to 192.0.2.9 port 443: RST received\n"
	"\n";
/* clang-format on */

TEST_IMPL(tls_text_failed_target_is_header_and_error)
{
	struct tls_report *r = report_refused();
	struct capture c;

	ASSERT_SAME("refused_text", text_of(&c, r), refused_text);
	free(c.data);
	tls_report_free(r);
	return 0;
}

/* clang-format off */
static const char expired_text[] =
	"old.example.test:443 [192.0.2.30]\n"
	"  SNI            old.example.test\n"
	"  STARTTLS       none\n"
	"  Scanned        2026-11-21T12:00:00.000Z, 1.250 s, 9 connections\n"
	"\n"
	"Protocols\n"
	"  SSLv2          disabled\n"
	"  SSLv3          disabled\n"
	"  TLSv1.0        disabled\n"
	"  TLSv1.1        disabled\n"
	"  TLSv1.2        enabled\n"
	"  TLSv1.3        disabled\n"
	"\n"
	"Cipher suites\n"
	"  TLSv1.2: order indeterminate, listed strongest first\n"
	"    strong      128  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256  ECDHE-RSA-AES128-GCM-SHA256  secp256r1 256 bits\n"
	"  Key exchange: the group the server chose from portprobe's offer; other clients may get another.\n"
	"\n"
	"Key exchange groups (accepted from portprobe's offer)\n"
	"  secp256r1  0x0017   256 bits  TLSv1.2\n"
	"\n"
	"Certificates: 1 chain\n"
	"  Chain 1 of 1, found by rsa, sni; first handshake TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
	"    [0] CN=old.example.test\n"
	"        issuer         CN=Old Root CA,O=Legacy Inc\n"
	"        DNS names      old.example.test\n"
	"        serial         0BAD\n"
	"        valid          2024-11-16T12:00:00Z to 2026-11-16T12:00:00Z (EXPIRED, days left -5)\n"
	"        key            RSA 2048 bits\n"
	"        signature      sha256WithRSAEncryption\n"
	"        SHA-256        6A:F4:F9:31:E0:0C:4E:94:D8:FA:07:61:71:0E:21:4B:15:C7:75:D9:8B:B6:E4:9D:51:14:FA:A3:03:99:04:74\n"
	"        SPKI pin       GCNJUur8XihvTI62P7gxgCqiDUsANiDOOggSM0Lwf/w=\n"
	"        ext key usage  serverAuth\n"
	"    [1] CN=Old Root CA,O=Legacy Inc\n"
	"        issuer         CN=Old Root CA,O=Legacy Inc\n"
	"        serial         07\n"
	"        valid          2010-01-01T00:00:00Z to 2030-01-01T00:00:00Z (1136 days left)\n"
	"        key            RSA 2048 bits\n"
	"        signature      sha256WithRSAEncryption\n"
	"        SHA-256        51:C6:6D:38:A9:C5:F0:CA:9F:87:EE:77:DC:F9:E7:10:D6:16:06:72:09:EE:F0:DC:E1:02:69:CB:7F:E7:EE:23\n"
	"        SPKI pin       nW6/ESxJs4hBFEIOGer2CYei2Gxj7kPUnA8R/QBOC4w=\n"
	"        key usage      keyCertSign, cRLSign\n"
	"        flags          CA, self-signed\n"
	"    verdict        untrusted-root: self-signed certificate in certificate chain (depth 1)\n"
	"    problems       untrusted-root, expired\n"
	"    hostname       matches\n"
	"    chain          2 sent, in order, root included; not verified\n"
	"    OCSP staple    none\n"
	"    expiry         leaf 2026-11-16T12:00:00Z (-5 days)\n"
	"                   earliest sent [0] 2026-11-16T12:00:00Z (-5 days)\n"
	"\n";
/* clang-format on */

TEST_IMPL(tls_text_expired_leaf_under_untrusted_root)
{
	struct world w;
	struct tls_report *r;
	struct capture c;

	ASSERT_EQ(world_init(&w), 0);
	r = report_expired(&w);
	ASSERT_SAME("expired_text", text_of(&c, r), expired_text);
	free(c.data);
	tls_report_free(r);
	world_free(&w);
	return 0;
}

/* clang-format off */
static const char legacy_text[] =
	"legacy.example.test:443 [192.0.2.40]\n"
	"  SNI            (none)\n"
	"  STARTTLS       none\n"
	"  Scanned        2026-11-21T12:00:00.000Z, 1.250 s, 17 connections\n"
	"\n"
	"Protocols\n"
	"  SSLv2          enabled\n"
	"  SSLv3          enabled\n"
	"  TLSv1.0        enabled\n"
	"  TLSv1.1        error\n"
	"  TLSv1.2        disabled\n"
	"  TLSv1.3        disabled\n"
	"\n"
	"Cipher suites\n"
	"  SSLv2: the client chooses in SSLv2, listed strongest first\n"
	"    insecure    128  SSL_CK_RC4_128_WITH_MD5            RC4-MD5\n"
	"    insecure    112  SSL_CK_DES_192_EDE3_CBC_WITH_MD5   DES-CBC3-MD5\n"
	"  SSLv3: server order, most preferred first\n"
	"    insecure    128  TLS_RSA_WITH_RC4_128_SHA           RC4-SHA\n"
	"    weak        112  TLS_RSA_WITH_3DES_EDE_CBC_SHA      DES-CBC3-SHA\n"
	"    insecure    128  TLS_RSA_WITH_RC4_128_MD5           RC4-MD5\n"
	"  TLSv1.0: client order (the server follows the client), listed strongest first\n"
	"    weak        128  TLS_RSA_WITH_AES_128_CBC_SHA       AES128-SHA\n"
	"    weak        112  TLS_RSA_WITH_3DES_EDE_CBC_SHA      DES-CBC3-SHA\n"
	"    weak        112  TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA  DHE-RSA-DES-CBC3-SHA  DH 1024 bits\n"
	"    insecure    128  TLS_RSA_WITH_RC4_128_SHA           RC4-SHA\n"
	"  Key exchange: the group the server chose from portprobe's offer; other clients may get another.\n"
	"\n"
	"Certificates: 1 chain\n"
	"  Chain 1 of 1, found by rsa, no-sni; first handshake TLSv1.0 TLS_RSA_WITH_AES_128_CBC_SHA\n"
	"    [0] CN=legacy.example.test,O=Legacy Inc\n"
	"        issuer         CN=legacy.example.test,O=Legacy Inc\n"
	"        DNS names      legacy.example.test\n"
	"        serial         -05\n"
	"        valid          2025-06-01T00:00:00Z to 2027-06-01T00:00:00Z (191 days left)\n"
	"        key            RSA 2048 bits\n"
	"        signature      sha256WithRSAEncryption\n"
	"        SHA-256        53:87:24:8F:90:07:52:6A:2B:7B:6A:E9:00:94:BC:80:8D:B2:16:D5:95:10:47:78:47:24:E6:0D:96:08:45:0F\n"
	"        SPKI pin       GCNJUur8XihvTI62P7gxgCqiDUsANiDOOggSM0Lwf/w=\n"
	"        flags          self-signed\n"
	"    verdict        self-signed: self-signed certificate (depth 0)\n"
	"    hostname       matches\n"
	"    chain          1 sent, in order, root included; not verified\n"
	"    OCSP staple    none\n"
	"    expiry         leaf 2027-06-01T00:00:00Z (191 days)\n"
	"                   earliest sent [0] 2027-06-01T00:00:00Z (191 days)\n"
	"\n"
	"Notes\n"
	"  TLSv1.1: 3 probes timed out without a verdict\n"
	"\n";
/* clang-format on */

TEST_IMPL(tls_text_legacy_sslv2_sslv3_with_3des_and_rc4)
{
	struct world w;
	struct tls_report *r;
	struct capture c;

	ASSERT_EQ(world_init(&w), 0);
	r = report_legacy(&w);
	ASSERT_SAME("legacy_text", text_of(&c, r), legacy_text);
	free(c.data);
	tls_report_free(r);
	world_free(&w);
	return 0;
}

/* --- JSON ---------------------------------------------------------------------- */

static const char modern_json[] =
    "[\n{\"host\":\"www.example.test\",\"ip\":\"192.0.2.7\",\"port\":443,"
    "\"sni\":\"www.example.test\",\"starttls\":null,\"start\":\"2026-11-21T12:00:00.000Z\","
    "\"end\":\"2026-11-21T12:00:01.250Z\",\"connections\":41,\"error\":null,"
    "\"protocols\":{\"SSLv2\":false,\"SSLv3\":false,\"TLSv1.0\":false,\"TLSv1.1\":false,"
    "\"TLSv1.2\":true,\"TLSv1.3\":true},\"protocol_support\":{\"SSLv2\":\"disabled\","
    "\"SSLv3\":\"disabled\",\"TLSv1.0\":\"disabled\",\"TLSv1.1\":\"disabled\","
    "\"TLSv1.2\":\"enabled\",\"TLSv1.3\":\"enabled\"},\"ciphers\":[{\"protocol\":\"TLSv1.2\","
    "\"id\":\"0xC02B\",\"iana\":\"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\","
    "\"openssl\":\"ECDHE-ECDSA-AES128-GCM-SHA256\",\"kx\":\"ECDHE\",\"au\":\"ECDSA\","
    "\"enc\":\"AES_128_GCM\",\"bits\":128,\"key_bits\":128,\"mac\":\"AEAD\",\"aead\":true,"
    "\"pfs\":true,\"strength\":\"strong\",\"kex_group\":\"x25519\","
    "\"kex_group_id\":\"0x001D\",\"kex_bits\":253},{\"protocol\":\"TLSv1.2\","
    "\"id\":\"0xC030\",\"iana\":\"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\","
    "\"openssl\":\"ECDHE-RSA-AES256-GCM-SHA384\",\"kx\":\"ECDHE\",\"au\":\"RSA\","
    "\"enc\":\"AES_256_GCM\",\"bits\":256,\"key_bits\":256,\"mac\":\"AEAD\",\"aead\":true,"
    "\"pfs\":true,\"strength\":\"strong\",\"kex_group\":\"x25519\","
    "\"kex_group_id\":\"0x001D\",\"kex_bits\":253},{\"protocol\":\"TLSv1.2\","
    "\"id\":\"0xC02F\",\"iana\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\","
    "\"openssl\":\"ECDHE-RSA-AES128-GCM-SHA256\",\"kx\":\"ECDHE\",\"au\":\"RSA\","
    "\"enc\":\"AES_128_GCM\",\"bits\":128,\"key_bits\":128,\"mac\":\"AEAD\",\"aead\":true,"
    "\"pfs\":true,\"strength\":\"strong\",\"kex_group\":\"x25519\","
    "\"kex_group_id\":\"0x001D\",\"kex_bits\":253},{\"protocol\":\"TLSv1.2\","
    "\"id\":\"0xCCA8\",\"iana\":\"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256\","
    "\"openssl\":\"ECDHE-RSA-CHACHA20-POLY1305\",\"kx\":\"ECDHE\",\"au\":\"RSA\","
    "\"enc\":\"CHACHA20_POLY1305\",\"bits\":256,\"key_bits\":256,\"mac\":\"AEAD\","
    "\"aead\":true,\"pfs\":true,\"strength\":\"strong\",\"kex_group\":\"x25519\","
    "\"kex_group_id\":\"0x001D\",\"kex_bits\":253},{\"protocol\":\"TLSv1.2\","
    "\"id\":\"0xC013\",\"iana\":\"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA\","
    "\"openssl\":\"ECDHE-RSA-AES128-SHA\",\"kx\":\"ECDHE\",\"au\":\"RSA\","
    "\"enc\":\"AES_128_CBC\",\"bits\":128,\"key_bits\":128,\"mac\":\"SHA\",\"aead\":false,"
    "\"pfs\":true,\"strength\":\"acceptable\",\"kex_group\":\"x25519\","
    "\"kex_group_id\":\"0x001D\",\"kex_bits\":253},{\"protocol\":\"TLSv1.3\","
    "\"id\":\"0x1302\",\"iana\":\"TLS_AES_256_GCM_SHA384\","
    "\"openssl\":\"TLS_AES_256_GCM_SHA384\",\"kx\":\"any\",\"au\":\"any\","
    "\"enc\":\"AES_256_GCM\",\"bits\":256,\"key_bits\":256,\"mac\":\"AEAD\",\"aead\":true,"
    "\"pfs\":true,\"strength\":\"strong\",\"kex_group\":\"X25519MLKEM768\","
    "\"kex_group_id\":\"0x11EC\",\"kex_bits\":null},{\"protocol\":\"TLSv1.3\","
    "\"id\":\"0x1303\",\"iana\":\"TLS_CHACHA20_POLY1305_SHA256\","
    "\"openssl\":\"TLS_CHACHA20_POLY1305_SHA256\",\"kx\":\"any\",\"au\":\"any\","
    "\"enc\":\"CHACHA20_POLY1305\",\"bits\":256,\"key_bits\":256,\"mac\":\"AEAD\","
    "\"aead\":true,\"pfs\":true,\"strength\":\"strong\",\"kex_group\":\"X25519MLKEM768\","
    "\"kex_group_id\":\"0x11EC\",\"kex_bits\":null},{\"protocol\":\"TLSv1.3\","
    "\"id\":\"0x1301\",\"iana\":\"TLS_AES_128_GCM_SHA256\","
    "\"openssl\":\"TLS_AES_128_GCM_SHA256\",\"kx\":\"any\",\"au\":\"any\","
    "\"enc\":\"AES_128_GCM\",\"bits\":128,\"key_bits\":128,\"mac\":\"AEAD\",\"aead\":true,"
    "\"pfs\":true,\"strength\":\"strong\",\"kex_group\":\"X25519MLKEM768\","
    "\"kex_group_id\":\"0x11EC\",\"kex_bits\":null}],\"server_order\":{\"SSLv2\":null,"
    "\"SSLv3\":null,\"TLSv1.0\":null,\"TLSv1.1\":null,\"TLSv1.2\":\"server\","
    "\"TLSv1.3\":\"server\"},\"server_order_list\":{\"SSLv2\":null,\"SSLv3\":null,"
    "\"TLSv1.0\":null,\"TLSv1.1\":null,\"TLSv1.2\":[\"0xC02B\",\"0xC030\",\"0xC02F\","
    "\"0xCCA8\",\"0xC013\"],\"TLSv1.3\":[\"0x1302\",\"0x1303\",\"0x1301\"]},"
    "\"groups\":[{\"name\":\"x25519\",\"id\":\"0x001D\",\"kind\":\"ec\",\"bits\":253,"
    "\"protocols\":[\"TLSv1.2\",\"TLSv1.3\"]},{\"name\":\"secp256r1\",\"id\":\"0x0017\","
    "\"kind\":\"ec\",\"bits\":256,\"protocols\":[\"TLSv1.2\",\"TLSv1.3\"]},"
    "{\"name\":\"secp384r1\",\"id\":\"0x0018\",\"kind\":\"ec\",\"bits\":384,"
    "\"protocols\":[\"TLSv1.2\"]},{\"name\":\"X25519MLKEM768\",\"id\":\"0x11EC\","
    "\"kind\":\"hybrid\",\"bits\":null,\"protocols\":[\"TLSv1.3\"]}],"
    "\"certificates\":[{\"found_by\":[\"rsa\",\"sni\",\"no-sni\"],"
    "\"negotiated\":{\"protocol\":\"TLSv1.3\",\"id\":\"0x1302\","
    "\"iana\":\"TLS_AES_256_GCM_SHA384\"},\"chain\":[{\"subject\":\"CN=www.example.test,"
    "O=Example Ltd,C=DE\",\"issuer\":\"CN=Example Intermediate CA,O=Example Ltd,C=DE\","
    "\"version\":3,\"serial\":\"FEDCBA9876543210\",\"san\":[\"www.example.test\","
    "\"*.example.test\"],\"san_ip\":[\"192.0.2.7\"],\"san_other\":0,"
    "\"not_before\":\"2026-09-01T00:00:00Z\",\"not_after\":\"2027-02-19T11:59:59Z\","
    "\"days_left\":89,\"key_type\":\"RSA\",\"key_bits\":2048,\"curve\":null,"
    "\"curve_nist\":null,\"sig_alg\":\"sha256WithRSAEncryption\","
    "\"sig_short\":\"RSA-SHA256\","
    "\"sha256\":\"1E:12:D8:96:16:81:6C:36:B4:CF:21:28:BF:85:BD:45:03:EE:0E:67:A3:11:DA:EB:F9:CF:"
    "F3:4D:70:C5:73:36\","
    "\"sha1\":\"84:E8:DB:BC:D1:6E:8B:46:6E:05:DC:A5:FA:E2:9D:A3:95:3D:01:6C\","
    "\"spki_sha256\":\"GCNJUur8XihvTI62P7gxgCqiDUsANiDOOggSM0Lwf/w=\","
    "\"spki_sha256_hex\":\"18234952eafc5e286f4c8eb63fb831802aa20d4b003620ce3a08123342f07ffc\","
    "\"key_usage\":[\"digitalSignature\",\"keyEncipherment\"],"
    "\"ext_key_usage\":[\"serverAuth\",\"clientAuth\"],\"basic_constraints\":{\"ca\":false,"
    "\"path_len\":null},\"ocsp_urls\":[\"http://ocsp.example.test/\"],"
    "\"ca_issuers_urls\":[\"http://ca.example.test/int.der\"],"
    "\"crl_urls\":[\"http://crl.example.test/int.crl\"],\"must_staple\":false,"
    "\"sct_count\":0,\"self_signed\":false,\"faults\":[]},"
    "{\"subject\":\"CN=Example Intermediate CA,O=Example Ltd,C=DE\","
    "\"issuer\":\"CN=Example Root CA,O=Example Ltd,C=DE\",\"version\":3,\"serial\":\"1000\","
    "\"san\":[],\"san_ip\":[],\"san_other\":0,\"not_before\":\"2021-06-01T00:00:00Z\","
    "\"not_after\":\"2031-06-01T00:00:00Z\",\"days_left\":1652,\"key_type\":\"RSA\","
    "\"key_bits\":2048,\"curve\":null,\"curve_nist\":null,"
    "\"sig_alg\":\"sha256WithRSAEncryption\",\"sig_short\":\"RSA-SHA256\","
    "\"sha256\":\"D7:A6:37:70:52:3A:F1:0D:DD:58:3F:08:C5:B2:FC:7C:1F:56:D5:9F:71:EC:00:D7:DA:C3:"
    "FF:1D:87:F2:11:FB\","
    "\"sha1\":\"61:AD:95:B7:D6:99:80:4D:96:2E:1A:42:CC:75:4B:93:E6:42:30:F5\","
    "\"spki_sha256\":\"jivlZySln6nPjnwmISStegNFKYTFDX+l/aaXsSKBRU8=\","
    "\"spki_sha256_hex\":\"8e2be56724a59fa9cf8e7c262124ad7a03452984c50d7fa5fda697b12281454f\","
    "\"key_usage\":[\"keyCertSign\",\"cRLSign\"],\"ext_key_usage\":null,"
    "\"basic_constraints\":{\"ca\":true,\"path_len\":0},\"ocsp_urls\":[],"
    "\"ca_issuers_urls\":[],\"crl_urls\":[],\"must_staple\":false,\"sct_count\":0,"
    "\"self_signed\":false,\"faults\":[]}],\"verified\":true,\"verify_error\":null,"
    "\"verdict\":\"ok\",\"problems\":[],\"errors\":[],\"errors_truncated\":false,"
    "\"hostname_checked\":true,\"hostname_match\":true,\"order_ok\":true,"
    "\"root_included\":false,\"sent\":2,\"verified_length\":3,"
    "\"expiry\":{\"leaf\":{\"not_after\":\"2027-02-19T11:59:59Z\",\"days_left\":89},"
    "\"earliest_in_chain\":{\"not_after\":\"2027-02-19T11:59:59Z\",\"days_left\":89,"
    "\"index\":0},\"earliest_verified\":{\"not_after\":\"2027-02-19T11:59:59Z\","
    "\"days_left\":89}},\"ocsp_staple\":{\"status\":\"good\",\"invalid_reason\":null,"
    "\"response_status\":0,\"signature_checked\":true,"
    "\"this_update\":\"2026-11-20T00:00:00Z\",\"next_update\":\"2026-11-27T00:00:00Z\","
    "\"expired\":false,\"revocation_time\":null,\"revocation_reason\":null}},"
    "{\"found_by\":[\"ecdsa\",\"sni\"],\"negotiated\":{\"protocol\":\"TLSv1.3\","
    "\"id\":\"0x1302\",\"iana\":\"TLS_AES_256_GCM_SHA384\"},"
    "\"chain\":[{\"subject\":\"CN=www.example.test,O=Example Ltd,C=DE\","
    "\"issuer\":\"CN=Example Intermediate CA,O=Example Ltd,C=DE\",\"version\":3,"
    "\"serial\":\"2A\",\"san\":[\"www.example.test\"],\"san_ip\":[],\"san_other\":0,"
    "\"not_before\":\"2026-10-01T00:00:00Z\",\"not_after\":\"2027-01-01T00:00:00Z\","
    "\"days_left\":40,\"key_type\":\"EC\",\"key_bits\":256,\"curve\":\"prime256v1\","
    "\"curve_nist\":\"P-256\",\"sig_alg\":\"sha256WithRSAEncryption\","
    "\"sig_short\":\"RSA-SHA256\","
    "\"sha256\":\"BF:6B:8F:81:1C:E8:91:0A:D3:AF:FD:88:90:61:ED:97:6F:42:4F:3C:85:81:12:2D:CF:A9:"
    "15:49:D5:D8:E6:A0\","
    "\"sha1\":\"17:23:7F:9F:31:EB:DE:A6:BB:67:C2:7C:A4:AE:B0:7D:CA:8D:64:E6\","
    "\"spki_sha256\":\"dd7NUdLz/hfEnXqlyRDLsmOF/atbQ5Oa9FoGrKMj1ts=\","
    "\"spki_sha256_hex\":\"75decd51d2f3fe17c49d7aa5c910cbb26385fdab5b43939af45a06aca323d6db\","
    "\"key_usage\":[\"digitalSignature\"],\"ext_key_usage\":[\"serverAuth\"],"
    "\"basic_constraints\":{\"ca\":false,\"path_len\":null},\"ocsp_urls\":[],"
    "\"ca_issuers_urls\":[],\"crl_urls\":[],\"must_staple\":true,\"sct_count\":0,"
    "\"self_signed\":false,\"faults\":[]},{\"subject\":\"CN=Example Intermediate CA,"
    "O=Example Ltd,C=DE\",\"issuer\":\"CN=Example Root CA,O=Example Ltd,C=DE\",\"version\":3,"
    "\"serial\":\"1000\",\"san\":[],\"san_ip\":[],\"san_other\":0,"
    "\"not_before\":\"2021-06-01T00:00:00Z\",\"not_after\":\"2031-06-01T00:00:00Z\","
    "\"days_left\":1652,\"key_type\":\"RSA\",\"key_bits\":2048,\"curve\":null,"
    "\"curve_nist\":null,\"sig_alg\":\"sha256WithRSAEncryption\","
    "\"sig_short\":\"RSA-SHA256\","
    "\"sha256\":\"D7:A6:37:70:52:3A:F1:0D:DD:58:3F:08:C5:B2:FC:7C:1F:56:D5:9F:71:EC:00:D7:DA:C3:"
    "FF:1D:87:F2:11:FB\","
    "\"sha1\":\"61:AD:95:B7:D6:99:80:4D:96:2E:1A:42:CC:75:4B:93:E6:42:30:F5\","
    "\"spki_sha256\":\"jivlZySln6nPjnwmISStegNFKYTFDX+l/aaXsSKBRU8=\","
    "\"spki_sha256_hex\":\"8e2be56724a59fa9cf8e7c262124ad7a03452984c50d7fa5fda697b12281454f\","
    "\"key_usage\":[\"keyCertSign\",\"cRLSign\"],\"ext_key_usage\":null,"
    "\"basic_constraints\":{\"ca\":true,\"path_len\":0},\"ocsp_urls\":[],"
    "\"ca_issuers_urls\":[],\"crl_urls\":[],\"must_staple\":false,\"sct_count\":0,"
    "\"self_signed\":false,\"faults\":[]}],\"verified\":true,\"verify_error\":null,"
    "\"verdict\":\"ok\",\"problems\":[],\"errors\":[],\"errors_truncated\":false,"
    "\"hostname_checked\":true,\"hostname_match\":true,\"order_ok\":true,"
    "\"root_included\":false,\"sent\":2,\"verified_length\":3,"
    "\"expiry\":{\"leaf\":{\"not_after\":\"2027-01-01T00:00:00Z\",\"days_left\":40},"
    "\"earliest_in_chain\":{\"not_after\":\"2027-01-01T00:00:00Z\",\"days_left\":40,"
    "\"index\":0},\"earliest_verified\":{\"not_after\":\"2027-01-01T00:00:00Z\","
    "\"days_left\":40}},\"ocsp_staple\":{\"status\":\"none\",\"invalid_reason\":null,"
    "\"response_status\":null,\"signature_checked\":null,\"this_update\":null,"
    "\"next_update\":null,\"expired\":null,\"revocation_time\":null,"
    "\"revocation_reason\":null}}],\"notes\":[]}\n]\n";

TEST_IMPL(tls_json_modern_server_exact_and_parsed_by_jq)
{
	struct world w;
	struct tls_report *r;
	struct capture c;
	const char *j;

	ASSERT_EQ(world_init(&w), 0);
	r = report_modern(&w);
	j = json_of(&c, (const struct tls_report *const *)&r, 1);
	ASSERT_SAME("modern_json", j, modern_json);
	if (have_command("jq"))
		ASSERT_EQ(jq_check(j,
				   "length == 1 and .[0].protocols[\"TLSv1.3\"] == true and "
				   ".[0].protocols.SSLv3 == false and "
				   ".[0].server_order[\"TLSv1.2\"] == \"server\" and "
				   "([.[0].ciphers[] | select(.protocol == \"TLSv1.2\") | .id] == "
				   ".[0].server_order_list[\"TLSv1.2\"]) and "
				   "(.[0].certificates | length) == 2 and "
				   ".[0].certificates[1].chain[0].curve_nist == \"P-256\" and "
				   ".[0].certificates[0].expiry.leaf.days_left == 89 and "
				   ".[0].certificates[0].ocsp_staple.status == \"good\" and "
				   ".[0].error == null"),
			  0);
	else
		printf("note: jq missing, jq check skipped\n");
	free(c.data);
	tls_report_free(r);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_json_every_kind_of_target_keeps_one_shape)
{
	struct world w;
	struct tls_report *r[5];
	struct capture c;
	const char *j;

	ASSERT_EQ(world_init(&w), 0);
	r[0] = report_modern(&w);
	r[1] = report_client_order(&w);
	r[2] = report_refused();
	r[3] = report_expired(&w);
	r[4] = report_legacy(&w);
	j = json_of(&c, (const struct tls_report *const *)r, 5);
	/* one object per line, in the order written */
	ASSERT_TRUE(!strncmp(j, "[\n{\"host\":\"www.example.test\",", 29));
	ASSERT_TRUE(
	    strstr(j, "]},\n{\"host\":\"mail.example.test\",\"ip\":\"192.0.2.25\",\"port\":587,"
		      "\"sni\":\"mail.example.test\",\"starttls\":\"smtp\",") != NULL);
	ASSERT_TRUE(
	    strstr(j,
		   "\n{\"host\":\"down.example.test\",\"ip\":\"192.0.2.9\",\"port\":443,"
		   "\"sni\":\"down.example.test\",\"starttls\":null,"
		   "\"start\":\"2026-11-21T12:00:00.000Z\","
		   "\"end\":\"2026-11-21T12:00:00.001Z\",\"connections\":1,"
		   "\"error\":{\"class\":\"Connection refused\","
		   "\"detail\":\"connect to 192.0.2.9 port 443: RST received\"},"
		   "\"protocols\":{\"SSLv2\":null,\"SSLv3\":null,\"TLSv1.0\":null,"
		   "\"TLSv1.1\":null,\"TLSv1.2\":null,\"TLSv1.3\":null},"
		   "\"protocol_support\":{\"SSLv2\":\"untested\",\"SSLv3\":\"untested\","
		   "\"TLSv1.0\":\"untested\",\"TLSv1.1\":\"untested\","
		   "\"TLSv1.2\":\"untested\",\"TLSv1.3\":\"untested\"},\"ciphers\":[],"
		   "\"server_order\":{\"SSLv2\":null,\"SSLv3\":null,\"TLSv1.0\":null,"
		   "\"TLSv1.1\":null,\"TLSv1.2\":null,\"TLSv1.3\":null},"
		   "\"server_order_list\":{\"SSLv2\":null,\"SSLv3\":null,"
		   "\"TLSv1.0\":null,\"TLSv1.1\":null,\"TLSv1.2\":null,"
		   "\"TLSv1.3\":null},\"groups\":[],\"certificates\":[],\"notes\":[]},\n") != NULL);
	/* SSLv2 kinds carry their 3-byte code */
	ASSERT_TRUE(strstr(j,
			   "{\"protocol\":\"SSLv2\",\"id\":\"0x0700C0\","
			   "\"iana\":\"SSL_CK_DES_192_EDE3_CBC_WITH_MD5\","
			   "\"openssl\":\"DES-CBC3-MD5\",\"kx\":\"RSA\",\"au\":\"RSA\","
			   "\"enc\":\"DES_192_EDE3_CBC\",\"bits\":112,\"key_bits\":168,"
			   "\"mac\":\"MD5\",\"aead\":false,\"pfs\":false,\"strength\":\"insecure\","
			   "\"kex_group\":null,\"kex_group_id\":null,\"kex_bits\":null}") != NULL);
	/* a DHE suite: prime bits, no group */
	ASSERT_TRUE(strstr(j, "\"id\":\"0x0016\",\"iana\":\"TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA\"") !=
		    NULL);
	ASSERT_TRUE(strstr(j, "\"kex_group\":null,\"kex_group_id\":null,\"kex_bits\":1024}") !=
		    NULL);
	ASSERT_TRUE(!strcmp(j + strlen(j) - 5, "]}\n]\n"));
	if (have_command("jq")) {
		/* every target has every key, with one type per key */
		ASSERT_EQ(
		    jq_check(j, "length == 5 and all(.[]; (keys | length) == 17) and "
				"([.[].protocols | keys] | unique | length) == 1 and "
				"([.[].ciphers[] | keys] | unique | length) == 1 and "
				"([.[].certificates[] | keys] | unique | length) == 1 and "
				"([.[].certificates[].chain[] | keys] | unique | length) == 1 and "
				"all(.[].ciphers[]; (.id | type) == \"string\") and "
				"all(.[].certificates[]; (.verified | type) == \"boolean\") and "
				".[1].server_order[\"TLSv1.2\"] == \"client\" and "
				".[1].server_order_list[\"TLSv1.2\"] == null and "
				".[1].server_order[\"TLSv1.3\"] == \"indeterminate\" and "
				".[2].error.class == \"Connection refused\" and "
				".[3].certificates[0].verdict == \"untrusted-root\" and "
				".[3].certificates[0].problems == "
				"[\"untrusted-root\", \"expired\"] and "
				".[3].certificates[0].chain[0].days_left == -5 and "
				".[3].certificates[0].expiry.earliest_verified == null and "
				".[4].protocols.SSLv2 == true and .[4].protocols[\"TLSv1.1\"] == "
				"null and .[4].protocol_support[\"TLSv1.1\"] == \"error\" and "
				".[4].sni == null and "
				".[4].certificates[0].chain[0].serial == \"-05\""),
		    0);
	}
	free(c.data);
	for (size_t i = 0; i < 5; i++)
		tls_report_free(r[i]);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_json_array_closes_with_no_target)
{
	struct capture c;
	const char *j = json_of(&c, NULL, 0);

	ASSERT_STR_EQ(j, "[\n]\n");
	if (have_command("jq"))
		ASSERT_EQ(jq_check(j, ". == []"), 0);
	free(c.data);
	return 0;
}

TEST_IMPL(tls_json_and_text_defuse_hostile_certificate_names)
{
	static const char *const ext[] = {"subjectAltName", "DNS:evil.example.test", NULL};
	struct world w;
	struct tls_report *r;
	struct capture c;
	const char *out;
	X509 *evil;

	ASSERT_EQ(world_init(&w), 0);
	/* quotes, a backslash, a newline and a C1 CSI (U+009B) in the subject */
	evil = make_cert("O=Evil \"Quotes\" \\ Inc/CN=line\nbreak\xc2\x9b[31mred", "01",
			 "20260101000000Z", "20270101000000Z", w.k_leaf, NULL, NULL, ext);
	ASSERT_TRUE(evil != NULL);
	r = report_new("evil.example.test", "192.0.2.66", 443, "evil.example.test", 3);
	add_dep(r, &w, &evil, 1, "evil.example.test", TLS_CERT_PROBE_RSA, 0x0303, 0xC02F);
	add_note(r, "server said \"hi\"\x1b[2J");

	out = json_of(&c, (const struct tls_report *const *)&r, 1);
	ASSERT_TRUE(strstr(out, "\"subject\":\"CN=line\\\\0Abreak\xc2\x9b[31mred,"
				"O=Evil \\\\\\\"Quotes\\\\\\\" \\\\\\\\ Inc\"") != NULL);
	ASSERT_TRUE(strstr(out, "\"notes\":[\"server said \\\"hi\\\"\\u001b[2J\"]") != NULL);
	if (have_command("jq"))
		ASSERT_EQ(jq_check(out, ".[0].certificates[0].chain[0].subject | "
					"startswith(\"CN=line\\\\0Abreak\")"),
			  0);
	free(c.data);

	out = text_of(&c, r);
	ASSERT_TRUE(
	    strstr(out, "    [0] CN=line\\0Abreak?[31mred,O=Evil \\\"Quotes\\\" \\\\ Inc\n") !=
	    NULL);
	ASSERT_TRUE(strstr(out, "  server said \"hi\"?[2J\n") != NULL);
	free(c.data);
	tls_report_free(r);
	X509_free(evil);
	world_free(&w);
	return 0;
}

/* --- nagios and exit status ---------------------------------------------------------- */

/* The nagios line for reports[0..n) and thresholds, with its state. */
struct nagios_case {
	const char *name;
	size_t first, n; /* reports[first .. first + n) */
	int warn, crit;
	int state;
	const char *line;
};

/* clang-format off */
static const struct nagios_case nagios_cases[] = {
    {"ok", 0, 1, 30, 14, TLS_NAGIOS_OK,
     "TLS OK - www.example.test:443: 2 certificate chains valid, earliest expiry "
     "2027-01-01T00:00:00Z (40 days)|days_left=40;30;14;; connections=41;;;0;\n"},
    {"no_thresholds", 0, 1, -1, -1, TLS_NAGIOS_OK,
     "TLS OK - www.example.test:443: 2 certificate chains valid, earliest expiry "
     "2027-01-01T00:00:00Z (40 days)|days_left=40;;;; connections=41;;;0;\n"},
    {"warning", 0, 1, 45, 14, TLS_NAGIOS_WARNING,
     "TLS WARNING - www.example.test:443: 2 certificate chains valid, earliest "
     "expiry 2027-01-01T00:00:00Z (40 days)|days_left=40;45;14;; "
     "connections=41;;;0;\n"},
    {"critical_days", 0, 1, 60, 40, TLS_NAGIOS_CRITICAL,
     "TLS CRITICAL - www.example.test:443: 2 certificate chains valid, earliest "
     "expiry 2027-01-01T00:00:00Z (40 days)|days_left=40;60;40;; "
     "connections=41;;;0;\n"},
    {"refused", 2, 1, 30, 14, TLS_NAGIOS_UNKNOWN,
     "TLS UNKNOWN - down.example.test:443: Connection refused: connect to "
     "192.0.2.9 port 443: RST received|days_left=U;30;14;; connections=1;;;0;\n"},
    {"expired", 3, 1, 30, 14, TLS_NAGIOS_CRITICAL,
     "TLS CRITICAL - old.example.test:443: certificate chain invalid "
     "(untrusted-root, expired), earliest expiry 2026-11-16T12:00:00Z (-5 "
     "days)|days_left=-5;30;14;; connections=9;;;0;\n"},
    {"legacy", 4, 1, 30, 14, TLS_NAGIOS_CRITICAL,
     "TLS CRITICAL - legacy.example.test:443: certificate chain invalid "
     "(self-signed), earliest expiry 2027-06-01T00:00:00Z (191 "
     "days)|days_left=191;30;14;; connections=17;;;0;\n"},
    {"two_ok", 0, 2, 30, 14, TLS_NAGIOS_OK,
     "TLS OK - 2 targets: 2 OK, earliest expiry 2027-01-01T00:00:00Z (40 days) on "
     "www.example.test:443|'days_left_www.example.test:443'=40;30;14;; "
     "'days_left_mail.example.test:587'=89;30;14;; connections=64;;;0;\n"},
    {"warning_and_refused", 1, 2, 90, 14, TLS_NAGIOS_UNKNOWN,
     "TLS UNKNOWN - 2 targets: 1 UNKNOWN, 1 WARNING; mail.example.test:587: 1 "
     "certificate chain valid, earliest expiry 2027-02-19T11:59:59Z (89 days); "
     "down.example.test:443: Connection refused: connect to 192.0.2.9 port 443: "
     "RST received|'days_left_mail.example.test:587'=89;90;14;; "
     "'days_left_down.example.test:443'=U;90;14;; connections=24;;;0;\n"},
    {"all", 0, 6, 30, 14, TLS_NAGIOS_CRITICAL,
     "TLS CRITICAL - 6 targets: 2 CRITICAL, 1 UNKNOWN, 3 OK; "
     "down.example.test:443: Connection refused: connect to 192.0.2.9 port 443: "
     "RST received; old.example.test:443: certificate chain invalid "
     "(untrusted-root, expired), earliest expiry 2026-11-16T12:00:00Z (-5 days); "
     "legacy.example.test:443: certificate chain invalid (self-signed), earliest "
     "expiry 2027-06-01T00:00:00Z (191 "
     "days)|'days_left_www.example.test:443'=40;30;14;; "
     "'days_left_mail.example.test:587'=89;30;14;; "
     "'days_left_down.example.test:443'=U;30;14;; "
     "'days_left_old.example.test:443'=-5;30;14;; "
     "'days_left_legacy.example.test:443'=191;30;14;; "
     "'days_left_www.example.test:443'=40;30;14;; connections=132;;;0;\n"},
    {"none", 0, 0, 30, 14, TLS_NAGIOS_UNKNOWN,
     "TLS UNKNOWN - no target finished|connections=0;;;0;\n"},
};
/* clang-format on */

TEST_IMPL(tls_nagios_lines_are_exact)
{
	struct world w;
	struct tls_report *r[6];
	struct capture c;
	int st;

	ASSERT_EQ(world_init(&w), 0);
	/* in an order that puts each case's targets next to each other */
	r[0] = report_modern(&w);
	r[1] = report_client_order(&w);
	r[2] = report_refused();
	r[3] = report_expired(&w);
	r[4] = report_legacy(&w);
	r[5] = report_modern(&w);
	for (size_t i = 0; i < sizeof(nagios_cases) / sizeof(nagios_cases[0]); i++) {
		const struct nagios_case *k = &nagios_cases[i];
		char name[64];

		snprintf(name, sizeof(name), "nagios_%s", k->name);
		ASSERT_SAME(name,
			    nagios_of(&c, (const struct tls_report *const *)r + k->first, k->n,
				      k->warn, k->crit, &st),
			    k->line);
		ASSERT_EQ(st, k->state);
		ASSERT_EQ(tls_nagios_status((const struct tls_report *const *)r + k->first, k->n,
					    k->warn, k->crit),
			  k->state);
		free(c.data);
	}
	/* a server's text cannot end the summary or start another line */
	free(r[2]->error_detail);
	r[2]->error_detail = xstrdup("smtp: 554 go away | now\r\nbye");
	ASSERT_SAME("nagios_hostile",
		    nagios_of(&c, (const struct tls_report *const *)r + 2, 1, -1, -1, &st),
		    "TLS UNKNOWN - down.example.test:443: Connection refused: smtp: 554 go away / "
		    "now  bye|days_left=U;;;; connections=1;;;0;\n");
	free(c.data);
	for (size_t i = 0; i < 6; i++)
		tls_report_free(r[i]);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_nagios_status_follows_each_threshold)
{
	struct world w;
	struct tls_report *modern, *client, *refused, *expired, *legacy, *nocert;
	const struct tls_report *v[3];

	ASSERT_EQ(world_init(&w), 0);
	modern = report_modern(&w); /* earliest expiry: 40 days (the ECDSA leaf) */
	client = report_client_order(&w);
	refused = report_refused();
	expired = report_expired(&w);
	legacy = report_legacy(&w);
	nocert = report_new("bare.example.test", "192.0.2.50", 443, NULL, 2);
	v[0] = modern;
#define STATUS(n, wd, cd) tls_nagios_status(v, n, wd, cd)
	ASSERT_EQ(STATUS(1, -1, -1), TLS_NAGIOS_OK);
	ASSERT_EQ(STATUS(1, 30, 14), TLS_NAGIOS_OK);
	ASSERT_EQ(STATUS(1, 39, 14), TLS_NAGIOS_OK);
	ASSERT_EQ(STATUS(1, 40, 14), TLS_NAGIOS_WARNING); /* <= is inclusive */
	ASSERT_EQ(STATUS(1, 40, -1), TLS_NAGIOS_WARNING);
	ASSERT_EQ(STATUS(1, 60, 39), TLS_NAGIOS_WARNING);
	ASSERT_EQ(STATUS(1, 60, 40), TLS_NAGIOS_CRITICAL);
	ASSERT_EQ(STATUS(1, -1, 40), TLS_NAGIOS_CRITICAL);
	ASSERT_EQ(STATUS(1, 30, 60), TLS_NAGIOS_CRITICAL); /* crit > warn: crit wins */
	/* an invalid chain is critical whatever the thresholds */
	v[0] = expired;
	ASSERT_EQ(STATUS(1, -1, -1), TLS_NAGIOS_CRITICAL);
	v[0] = legacy;
	ASSERT_EQ(STATUS(1, -1, -1), TLS_NAGIOS_CRITICAL);
	/* a failed target, or one without a certificate: unknown */
	v[0] = refused;
	ASSERT_EQ(STATUS(1, 30, 14), TLS_NAGIOS_UNKNOWN);
	v[0] = nocert;
	ASSERT_EQ(STATUS(1, 30, 14), TLS_NAGIOS_UNKNOWN);
	ASSERT_EQ(STATUS(0, 30, 14), TLS_NAGIOS_UNKNOWN);
	/* the run is its worst target: OK < WARNING < UNKNOWN < CRITICAL */
	v[0] = modern;
	v[1] = client;
	ASSERT_EQ(STATUS(2, 30, 14), TLS_NAGIOS_OK);
	ASSERT_EQ(STATUS(2, 45, 14), TLS_NAGIOS_WARNING);
	v[1] = refused;
	ASSERT_EQ(STATUS(2, 45, 14), TLS_NAGIOS_UNKNOWN);
	v[2] = expired;
	ASSERT_EQ(STATUS(3, 45, 14), TLS_NAGIOS_CRITICAL);
#undef STATUS
	tls_report_free(modern);
	tls_report_free(client);
	tls_report_free(refused);
	tls_report_free(expired);
	tls_report_free(legacy);
	tls_report_free(nocert);
	world_free(&w);
	return 0;
}

TEST_IMPL(tls_exit_status_is_1_for_failures_invalid_chains_and_near_expiry)
{
	struct world w;
	struct tls_report *modern, *client, *refused, *expired, *legacy, *nocert;
	const struct tls_report *v[2];

	ASSERT_EQ(world_init(&w), 0);
	modern = report_modern(&w); /* 40 days */
	client = report_client_order(&w);
	refused = report_refused();
	expired = report_expired(&w);
	legacy = report_legacy(&w);
	nocert = report_new("bare.example.test", "192.0.2.50", 443, NULL, 2);
	v[0] = modern;
	v[1] = client;
	ASSERT_EQ(tls_exit_status(v, 2, -1, -1), 0);
	ASSERT_EQ(tls_exit_status(v, 2, 30, 14), 0);
	ASSERT_EQ(tls_exit_status(v, 2, 39, 39), 0);
	ASSERT_EQ(tls_exit_status(v, 2, 40, -1), 1); /* the larger threshold counts */
	ASSERT_EQ(tls_exit_status(v, 2, -1, 40), 1);
	ASSERT_EQ(tls_exit_status(v, 2, 14, 40), 1);
	v[1] = refused;
	ASSERT_EQ(tls_exit_status(v, 2, -1, -1), 1);
	v[1] = expired;
	ASSERT_EQ(tls_exit_status(v, 2, -1, -1), 1);
	v[1] = legacy;
	ASSERT_EQ(tls_exit_status(v, 2, -1, -1), 1);
	v[1] = nocert; /* answered, sent no certificate: the output says so, no failure */
	ASSERT_EQ(tls_exit_status(v, 2, -1, -1), 0);
	ASSERT_EQ(tls_exit_status(v, 0, 30, 14), 0);
	tls_report_free(modern);
	tls_report_free(client);
	tls_report_free(refused);
	tls_report_free(expired);
	tls_report_free(legacy);
	tls_report_free(nocert);
	world_free(&w);
	return 0;
}

/* --- the public writer object (include/portprobe/tls.h) -------------------------- */

TEST_IMPL(tls_writer_drives_each_format_and_closes_after_an_interruption)
{
	struct world w;
	struct tls_report *r[2];
	struct pp_tls_writer *wr;
	enum pp_tls_format fmt;
	struct capture c, want;

	ASSERT_EQ(pp_tls_format_parse("json", &fmt), 0);
	ASSERT_EQ(fmt, PP_TLS_JSON);
	ASSERT_EQ(pp_tls_format_parse("nagios", &fmt), 0);
	ASSERT_EQ(fmt, PP_TLS_NAGIOS);
	ASSERT_EQ(pp_tls_format_parse("text", &fmt), 0);
	ASSERT_EQ(fmt, PP_TLS_TEXT);
	ASSERT_EQ(pp_tls_format_parse("xml", &fmt), -EINVAL);
	ASSERT_EQ(pp_tls_format_parse(NULL, &fmt), -EINVAL);
	ASSERT_EQ(world_init(&w), 0);
	r[0] = report_modern(&w);
	r[1] = report_refused();

	/* JSON: the same bytes as the functions; end() closes; status 0/1 */
	ASSERT_TRUE(capture_open(&c) != NULL);
	ASSERT_EQ(pp_tls_writer_new(c.f, PP_TLS_JSON, 30, 14, &wr), 0);
	ASSERT_EQ(pp_tls_writer_status(wr), 0);
	ASSERT_EQ(pp_tls_writer_report(wr, (const struct pp_tls_report *)r[0]), 0);
	ASSERT_EQ(pp_tls_writer_status(wr), 0);
	ASSERT_EQ(pp_tls_writer_report(wr, (const struct pp_tls_report *)r[1]), 0);
	ASSERT_EQ(pp_tls_writer_status(wr), 1);
	ASSERT_EQ(pp_tls_writer_end(wr), 0);
	ASSERT_EQ(pp_tls_writer_end(wr), 0); /* once only */
	ASSERT_EQ(pp_tls_writer_report(wr, (const struct pp_tls_report *)r[0]), -EINVAL);
	pp_tls_writer_free(wr);
	ASSERT_SAME("writer_json", capture_close(&c),
		    json_of(&want, (const struct tls_report *const *)r, 2));
	free(c.data);
	free(want.data);

	/* JSON interrupted before any target finished: still one document */
	ASSERT_TRUE(capture_open(&c) != NULL);
	ASSERT_EQ(pp_tls_writer_new(c.f, PP_TLS_JSON, -1, -1, &wr), 0);
	ASSERT_EQ(pp_tls_writer_end(wr), 0);
	pp_tls_writer_free(wr);
	ASSERT_STR_EQ(capture_close(&c), "[\n]\n");
	free(c.data);

	/* nagios: nothing until end(), then the line; status 0..3 */
	ASSERT_TRUE(capture_open(&c) != NULL);
	ASSERT_EQ(pp_tls_writer_new(c.f, PP_TLS_NAGIOS, 45, 14, &wr), 0);
	ASSERT_EQ(pp_tls_writer_report(wr, (const struct pp_tls_report *)r[0]), 0);
	ASSERT_EQ(pp_tls_writer_status(wr), TLS_NAGIOS_WARNING);
	fflush(c.f);
	ASSERT_EQ(c.len, 0);
	ASSERT_EQ(pp_tls_writer_report(wr, (const struct pp_tls_report *)r[1]), 0);
	ASSERT_EQ(pp_tls_writer_status(wr), TLS_NAGIOS_UNKNOWN);
	ASSERT_EQ(pp_tls_writer_end(wr), 0);
	pp_tls_writer_free(wr);
	ASSERT_TRUE(
	    !strncmp(capture_close(&c), "TLS UNKNOWN - 2 targets: 1 UNKNOWN, 1 WARNING; ", 47));
	free(c.data);

	/* nagios interrupted before any target finished */
	ASSERT_TRUE(capture_open(&c) != NULL);
	ASSERT_EQ(pp_tls_writer_new(c.f, PP_TLS_NAGIOS, 45, 14, &wr), 0);
	ASSERT_EQ(pp_tls_writer_end(wr), 0);
	ASSERT_EQ(pp_tls_writer_status(wr), TLS_NAGIOS_UNKNOWN);
	pp_tls_writer_free(wr);
	ASSERT_STR_EQ(capture_close(&c), "TLS UNKNOWN - no target finished|connections=0;;;0;\n");
	free(c.data);

	/* text: each report as it comes */
	ASSERT_TRUE(capture_open(&c) != NULL);
	ASSERT_EQ(pp_tls_writer_new(c.f, PP_TLS_TEXT, -1, -1, &wr), 0);
	ASSERT_EQ(pp_tls_writer_report(wr, (const struct pp_tls_report *)r[1]), 0);
	ASSERT_EQ(pp_tls_writer_end(wr), 0);
	ASSERT_EQ(pp_tls_writer_status(wr), 1);
	pp_tls_writer_free(wr);
	ASSERT_SAME("writer_text", capture_close(&c), text_of(&want, r[1]));
	free(c.data);
	free(want.data);

	ASSERT_EQ(pp_tls_writer_new(stdout, (enum pp_tls_format)7, -1, -1, &wr), -EINVAL);
	pp_tls_writer_free(NULL);
	tls_report_free(r[0]);
	tls_report_free(r[1]);
	world_free(&w);
	return 0;
}
