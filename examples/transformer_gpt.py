"""A small GPT: a decoder-only transformer that writes Shakespeare a character at a time.

Characters are embedded, a learned position embedding (a small custom layer) is added,
and a few pre-norm transformer blocks follow: LayerNormalization, causal self-attention
(`MultiHeadAttention` called with `use_causal_mask=True`, so position t sees only
positions <= t) and a Dense MLP, each inside a residual add. Every position is trained to
predict the next character; sampling then extends a prompt from the text one character
at a time. Plain Keras 2 code (functional API) but for the import.

    python examples/transformer_gpt.py --epochs 20
"""
import argparse

import numpy as np

import jkeras as keras
from jkeras import layers
from jkeras.models import Model

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--maxlen", type=int, default=64, help="characters of context")
parser.add_argument("--embed-dim", type=int, default=128)
parser.add_argument("--num-heads", type=int, default=4)
parser.add_argument("--num-blocks", type=int, default=2)
parser.add_argument("--max-windows", type=int, default=20000,
                    help="training windows taken from the text")
parser.add_argument("--generate", type=int, default=200, help="characters to sample")
args = parser.parse_args()

path = keras.utils.get_file(
    "shakespeare.txt",
    origin="https://storage.googleapis.com/download.tensorflow.org/data/shakespeare.txt")
with open(path, encoding="utf-8") as f:
    text = f.read()
chars = sorted(set(text))
vocab_size = len(chars)
char_indices = {c: i for i, c in enumerate(chars)}
encoded = np.array([char_indices[c] for c in text], dtype="int32")
print("Corpus length:", len(text), "- distinct characters:", vocab_size)

# Windows of maxlen characters; the target of each window is the same window one ahead.
starts = np.arange(0, len(encoded) - args.maxlen - 1, 3)[:args.max_windows]
x_train = np.stack([encoded[s:s + args.maxlen] for s in starts])
y_train = np.stack([encoded[s + 1:s + args.maxlen + 1] for s in starts])
print("Training windows:", len(x_train))


class PositionEmbedding(layers.Layer):
    """Adds a learned vector per position to a (batch, steps, features) input."""

    def __init__(self, max_length, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length

    def build(self, input_shape):
        self.position_embeddings = self.add_weight(
            name="position_embeddings", shape=(self.max_length, input_shape[-1]),
            initializer="random_normal")
        super().build(input_shape)

    def call(self, inputs):
        return inputs + self.position_embeddings[:inputs.shape[1]]

    def get_config(self):
        config = super().get_config()
        config["max_length"] = self.max_length
        return config


def transformer_block(x, embed_dim, num_heads):
    h = layers.LayerNormalization(epsilon=1e-6)(x)
    h = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim // num_heads,
                                  dropout=0.1)(h, h, use_causal_mask=True)
    x = layers.add([x, h])
    h = layers.LayerNormalization(epsilon=1e-6)(x)
    h = layers.Dense(4 * embed_dim, activation="gelu")(h)
    h = layers.Dense(embed_dim)(h)
    h = layers.Dropout(0.1)(h)
    return layers.add([x, h])


inputs = layers.Input(shape=(args.maxlen,), dtype="int32")
x = layers.Embedding(vocab_size, args.embed_dim)(inputs)
x = PositionEmbedding(args.maxlen)(x)
for _ in range(args.num_blocks):
    x = transformer_block(x, args.embed_dim, args.num_heads)
x = layers.LayerNormalization(epsilon=1e-6)(x)
outputs = layers.Dense(vocab_size)(x)  # logits of the next character at every position

model = Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.summary()
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, validation_split=0.1)


def sample(logits, temperature):
    """Draws an index from softmax(logits / temperature)."""
    logits = np.asarray(logits, dtype="float64") / temperature
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    return int(np.random.choice(len(probabilities), p=probabilities))


start = np.random.randint(0, len(encoded) - args.maxlen)
context = list(encoded[start:start + args.maxlen])
print('Prompt: "' + text[start:start + args.maxlen] + '"')
for temperature in [0.5, 1.0]:
    window = list(context)
    generated = ""
    for _ in range(args.generate):
        logits = model.predict(np.array([window[-args.maxlen:]]), verbose=0)[0, -1]
        next_index = sample(logits, temperature)
        window.append(next_index)
        generated += chars[next_index]
    print(f"--- temperature {temperature}:")
    print(generated)
