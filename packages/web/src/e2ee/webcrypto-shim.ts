// The browser build's stand-in for Node's `crypto` module. @hpke/* and mlkem import it only as a
// fallback when globalThis.crypto is missing (Node <= 18); browsers always have WebCrypto.
export const webcrypto: Crypto = globalThis.crypto;
export default { webcrypto };
