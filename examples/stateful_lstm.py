"""A stateful LSTM learns a moving average it can only see through its carried state.

The input is a random sequence cut into chunks of `tsteps`; the target at each step is
the mean of the last `lahead` inputs. With `stateful=True` the LSTM carries its state
from one batch to the next (batches hold consecutive chunks, `shuffle=False`), and
`reset_states()` starts each epoch afresh. Plain Keras 2 code but for the import.
"""
import numpy as np

from jkeras.layers import LSTM, Dense
from jkeras.models import Sequential

input_len = 1000
tsteps = 2
lahead = 1
batch_size = 1
epochs = 10

rng = np.random.default_rng(0)
data_input = rng.uniform(-0.1, 0.1, (input_len, 1)).astype("float32")
expected = np.convolve(data_input[:, 0], np.ones(lahead) / lahead)[:input_len]

# windows of `tsteps` consecutive inputs, each with the average at its end as target
x = np.stack([data_input[i:i + tsteps] for i in range(input_len - tsteps)])
y = expected[tsteps - 1:input_len - 1].reshape(-1, 1)
split = int(len(x) * 0.8)
x_train, y_train, x_test, y_test = x[:split], y[:split], x[split:], y[split:]

model = Sequential()
model.add(LSTM(20, input_shape=(tsteps, 1), batch_size=batch_size, return_sequences=False,
               stateful=True))
model.add(Dense(1))
model.compile(loss="mse", optimizer="adam")

for epoch in range(epochs):
    print("Epoch", epoch + 1, "/", epochs)
    model.fit(x_train, y_train, batch_size=batch_size, epochs=1, verbose=1,
              validation_data=(x_test, y_test), shuffle=False)
    model.reset_states()

predicted = model.predict(x_test, batch_size=batch_size)
print("Test MSE:", float(np.mean((predicted - y_test) ** 2)))
