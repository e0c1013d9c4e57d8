"""Sentiment of IMDB reviews with an LSTM over learned word embeddings.

The classic Keras 2 example, unchanged but for the import: about 83% test accuracy after
a few epochs (the review's words, most frequent 20,000 kept, cut to 80).
"""
from jkeras.datasets import imdb
from jkeras.layers import LSTM, Dense, Embedding
from jkeras.models import Sequential
from jkeras.preprocessing import sequence

max_features = 20000
maxlen = 80
batch_size = 32

print("Loading data...")
(x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=max_features)
print(len(x_train), "train sequences")
print(len(x_test), "test sequences")

x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = sequence.pad_sequences(x_test, maxlen=maxlen)
print("x_train shape:", x_train.shape)

model = Sequential()
model.add(Embedding(max_features, 128))
model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

model.fit(x_train, y_train, batch_size=batch_size, epochs=15,
          validation_data=(x_test, y_test))
score, acc = model.evaluate(x_test, y_test, batch_size=batch_size)
print("Test score:", score)
print("Test accuracy:", acc)
