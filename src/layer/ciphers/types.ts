// The shape every confidentiality cipher has: a keyed, stateful transform that
// carries its state (RC4 keystream, CBC chain) from one message to the next.

export interface CipherState {
  /** Transforms `input` into `output` (a new array when omitted; may be `input` itself). */
  process(input: Uint8Array, output?: Uint8Array): Uint8Array;
  /** Wipes the key material; later calls throw. */
  destroy(): void;
}

export type CipherDirection = 'encrypt' | 'decrypt';
