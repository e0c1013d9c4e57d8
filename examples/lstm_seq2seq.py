"""Character-level sequence-to-sequence translation (English to French) with LSTMs.

An encoder LSTM reads an English sentence one character at a time and hands its final
states (`return_state=True`) to a decoder LSTM as `initial_state`; the decoder learns to
emit the French sentence one character ahead of its input (teacher forcing). For
translating, the trained layers are rewired into two models: the encoder maps a sentence
to states, and the decoder advances one character at a time from those states, fed its
own previous guess. The sentence pairs are the tab-separated `fra.txt` of the Anki
fra-eng archive. Plain Keras 2 code but for the import.

    python examples/lstm_seq2seq.py --num-samples 10000 --epochs 100
"""
import argparse
import os

import numpy as np

import jkeras as keras
from jkeras.layers import LSTM, Dense, Input
from jkeras.models import Model

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--num-samples", type=int, default=10000,
                    help="sentence pairs to train on")
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--latent-dim", type=int, default=256,
                    help="units of the encoder and decoder LSTMs")
parser.add_argument("--decode", type=int, default=20,
                    help="training sentences to translate at the end")
args = parser.parse_args()

zip_path = keras.utils.get_file(
    "fra-eng.zip", origin="http://storage.googleapis.com/download.tensorflow.org/data/fra-eng.zip",
    extract=True)
data_path = os.path.join(os.path.dirname(zip_path), "fra.txt")

# Each line: English, a tab, French (newer copies add a tab and an attribution).
# "\t" starts a French sentence for the decoder and "\n" ends it.
input_texts, target_texts = [], []
with open(data_path, encoding="utf-8") as f:
    for line in f.read().split("\n"):
        if len(input_texts) == args.num_samples:
            break
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        input_texts.append(fields[0])
        target_texts.append("\t" + fields[1] + "\n")

input_chars = sorted(set("".join(input_texts)))
target_chars = sorted(set("".join(target_texts)))
num_encoder_tokens, num_decoder_tokens = len(input_chars), len(target_chars)
max_encoder_seq_length = max(len(t) for t in input_texts)
max_decoder_seq_length = max(len(t) for t in target_texts)
print("Sentence pairs:", len(input_texts))
print("Input characters:", num_encoder_tokens, "- output characters:", num_decoder_tokens)
print("Longest input:", max_encoder_seq_length, "- longest output:", max_decoder_seq_length)

input_index = {c: i for i, c in enumerate(input_chars)}
target_index = {c: i for i, c in enumerate(target_chars)}
reverse_target_index = {i: c for c, i in target_index.items()}

# One-hot arrays; the decoder's target is its input shifted one step to the left.
encoder_input_data = np.zeros((len(input_texts), max_encoder_seq_length, num_encoder_tokens),
                              dtype="float32")
decoder_input_data = np.zeros((len(input_texts), max_decoder_seq_length, num_decoder_tokens),
                              dtype="float32")
decoder_target_data = np.zeros_like(decoder_input_data)
for n, (source, target) in enumerate(zip(input_texts, target_texts)):
    for t, char in enumerate(source):
        encoder_input_data[n, t, input_index[char]] = 1.0
    for t, char in enumerate(target):
        decoder_input_data[n, t, target_index[char]] = 1.0
        if t > 0:
            decoder_target_data[n, t - 1, target_index[char]] = 1.0

# Training model: [English one-hots, French one-hots] -> next French character.
encoder_inputs = Input(shape=(None, num_encoder_tokens))
_, encoder_h, encoder_c = LSTM(args.latent_dim, return_state=True)(encoder_inputs)
encoder_states = [encoder_h, encoder_c]

decoder_inputs = Input(shape=(None, num_decoder_tokens))
decoder_lstm = LSTM(args.latent_dim, return_sequences=True, return_state=True)
decoder_sequence, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
decoder_dense = Dense(num_decoder_tokens, activation="softmax")
decoder_outputs = decoder_dense(decoder_sequence)

model = Model([encoder_inputs, decoder_inputs], decoder_outputs)
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.summary()
model.fit([encoder_input_data, decoder_input_data], decoder_target_data,
          batch_size=args.batch_size, epochs=args.epochs, validation_split=0.2)
model.save("s2s.h5")

# Inference models built from the trained layers.
encoder_model = Model(encoder_inputs, encoder_states)

state_h_input = Input(shape=(args.latent_dim,))
state_c_input = Input(shape=(args.latent_dim,))
step_sequence, step_h, step_c = decoder_lstm(decoder_inputs,
                                             initial_state=[state_h_input, state_c_input])
decoder_model = Model([decoder_inputs, state_h_input, state_c_input],
                      [decoder_dense(step_sequence), step_h, step_c])


def decode_sequence(input_seq):
    """Greedy translation of one encoded sentence (a batch of one), a character a step."""
    states = encoder_model.predict(input_seq, verbose=0)
    previous = np.zeros((1, 1, num_decoder_tokens), dtype="float32")
    previous[0, 0, target_index["\t"]] = 1.0
    decoded = ""
    while True:
        probabilities, h, c = decoder_model.predict([previous] + states, verbose=0)
        char = reverse_target_index[int(np.argmax(probabilities[0, -1]))]
        if char == "\n" or len(decoded) >= max_decoder_seq_length:
            return decoded
        decoded += char
        previous = np.zeros((1, 1, num_decoder_tokens), dtype="float32")
        previous[0, 0, target_index[char]] = 1.0
        states = [h, c]


translations = []
for seq_index in range(min(args.decode, len(input_texts))):
    translation = decode_sequence(encoder_input_data[seq_index:seq_index + 1])
    translations.append(translation)
    print("-")
    print("Input sentence:", input_texts[seq_index])
    print("Decoded sentence:", translation)
