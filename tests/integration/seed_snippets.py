"""The code blocks of the seed notes (../shared/seeds/*.txt), kept verbatim.

SNIPPETS: Keras code that tests/integration/test_seeds.py runs with only its imports rewritten.
SIGNATURES: API signatures the notes quote; the tests check jkeras accepts them.
OUTPUTS: printed results the notes show; the tests use them as expected values.
SKIPPED: blocks that are not runnable Keras code, each with the reason.

The 5 notes hold 113 fenced blocks: 77 runnable snippets, 25 quoted signatures, 3 printed
outputs and 8 skipped blocks (3 prose paragraphs in code fences, 1 TensorFlow/TFRecord
pipeline, 1 pseudo-code, 1 Python 2 demo, 2 generators whose text does not parse). Two
blocks mix kinds and are split at a line: 000 block 4 (prose around one `fit_generator`
call) and 004 block 1 (VGG16 code followed by the output it printed).
Generated from the notes by a script, not edited since; keep the text as the notes have it.
"""

SNIPPETS = {}
SIGNATURES = {}
OUTPUTS = {}
SKIPPED = {}

# ======================================================================
# Runnable Keras code
# ======================================================================
# 000_9141afc4b57de93f.txt, block 4 at line 36, under "四、Parameters；" (lines 4-13 of the block: the code; the rest is prose)
SNIPPETS["s000_04_fit_generator_directory"] = r'''hist = net_final.fit_generator(train_batches,
                               steps_per_epoch=train_batches.samples // BATCH_SIZE,
                               validation_data=valid_batches,
                               validation_steps=valid_batches.samples // BATCH_SIZE,
                               epochs=NUM_EPOCHS,
                               # shuffle=True,
                               # use_multiprocessing=True,
                               workers=20,
                               callbacks=callbacks_list)
'''

# 001_8d7c5cdb52bbe725.txt, block 1 at line 18, under "基于多层感知器 (MLP) 的 softmax 多分类："
SNIPPETS["s001_01_mlp_softmax"] = r'''import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Activation
from keras.optimizers import SGD

# 生成虚拟数据
import numpy as np
x_train = np.random.random((1000, 20))
y_train = keras.utils.to_categorical(np.random.randint(10, size=(1000, 1)), num_classes=10)
x_test = np.random.random((100, 20))
y_test = keras.utils.to_categorical(np.random.randint(10, size=(100, 1)), num_classes=10)

model = Sequential()
# Dense(64) 是一个具有 64 个隐藏神经元的全连接层。
# 在第一层必须指定所期望的输入数据尺寸：
# 在这里，是一个 20 维的向量。
model.add(Dense(64, activation='relu', input_dim=20))
model.add(Dropout(0.5))
model.add(Dense(64, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy',
              optimizer=sgd,
              metrics=['accuracy'])

model.fit(x_train, y_train,
          epochs=20,
          batch_size=128)
score = model.evaluate(x_test, y_test, batch_size=128)
'''

# 001_8d7c5cdb52bbe725.txt, block 2 at line 54, under "基于多层感知器的二分类："
SNIPPETS["s001_02_mlp_binary"] = r'''import numpy as np
from keras.models import Sequential
from keras.layers import Dense, Dropout

# 生成虚拟数据
x_train = np.random.random((1000, 20))
y_train = np.random.randint(2, size=(1000, 1))
x_test = np.random.random((100, 20))
y_test = np.random.randint(2, size=(100, 1))

model = Sequential()
model.add(Dense(64, input_dim=20, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(64, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

model.fit(x_train, y_train,
          epochs=20,
          batch_size=128)
score = model.evaluate(x_test, y_test, batch_size=128)
'''

# 001_8d7c5cdb52bbe725.txt, block 3 at line 84, under "类似 VGG 的卷积神经网络："
SNIPPETS["s001_03_vgg_like_cnn"] = r'''import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Flatten
from keras.layers import Conv2D, MaxPooling2D
from keras.optimizers import SGD

# 生成虚拟数据
x_train = np.random.random((100, 100, 100, 3))
y_train = keras.utils.to_categorical(np.random.randint(10, size=(100, 1)), num_classes=10)
x_test = np.random.random((20, 100, 100, 3))
y_test = keras.utils.to_categorical(np.random.randint(10, size=(20, 1)), num_classes=10)

model = Sequential()
# 输入: 3 通道 100x100 像素图像 -> (100, 100, 3) 张量。
# 使用 32 个大小为 3x3 的卷积滤波器。
model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(100, 100, 3)))
model.add(Conv2D(32, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))

model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))

model.add(Flatten())
model.add(Dense(256, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy', optimizer=sgd)

model.fit(x_train, y_train, batch_size=32, epochs=10)
score = model.evaluate(x_test, y_test, batch_size=32)
'''

# 001_8d7c5cdb52bbe725.txt, block 4 at line 125, under "基于 LSTM 的序列分类："
SNIPPETS["s001_04_lstm_classifier"] = r'''from keras.models import Sequential
from keras.layers import Dense, Dropout
from keras.layers import Embedding
from keras.layers import LSTM

model = Sequential()
model.add(Embedding(max_features, output_dim=256))
model.add(LSTM(128))
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

model.fit(x_train, y_train, batch_size=16, epochs=10)
score = model.evaluate(x_test, y_test, batch_size=16)
'''

# 001_8d7c5cdb52bbe725.txt, block 5 at line 147, under "基于 1D 卷积的序列分类："
SNIPPETS["s001_05_conv1d_classifier"] = r'''from keras.models import Sequential
from keras.layers import Dense, Dropout
from keras.layers import Embedding
from keras.layers import Conv1D, GlobalAveragePooling1D, MaxPooling1D

model = Sequential()
model.add(Conv1D(64, 3, activation='relu', input_shape=(seq_length, 100)))
model.add(Conv1D(64, 3, activation='relu'))
model.add(MaxPooling1D(3))
model.add(Conv1D(128, 3, activation='relu'))
model.add(Conv1D(128, 3, activation='relu'))
model.add(GlobalAveragePooling1D())
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

model.fit(x_train, y_train, batch_size=16, epochs=10)
score = model.evaluate(x_test, y_test, batch_size=16)
'''

# 001_8d7c5cdb52bbe725.txt, block 6 at line 177, under "核心是callable"
SNIPPETS["s001_06_functional_callable"] = r'''from keras.models import Model
from keras.layers import Input, Dense

a = Input(shape=(32,))
b = Dense(32)(a)
model = Model(inputs=a, outputs=b)
'''

# 001_8d7c5cdb52bbe725.txt, block 7 at line 190, under "核心是callable"
SNIPPETS["s001_07_multi_io_fragment"] = r'''model = Model(inputs=[a1, a2], outputs=[b1, b3, b3])
'''

# 001_8d7c5cdb52bbe725.txt, block 8 at line 200, under "建立Model"
SNIPPETS["s001_08_model_from_tensors"] = r'''model = Model(img_input, output)
'''

# 001_8d7c5cdb52bbe725.txt, block 9 at line 214, under "配置compile"
SNIPPETS["s001_09_compile_adam"] = r'''model.compile(optimizer='adam', loss='categorical_crossentropy',
              metrics=['accuracy'])
'''

# 001_8d7c5cdb52bbe725.txt, block 10 at line 221, under "输出模型构建"
SNIPPETS["s001_10_summary"] = r'''model.summary()
'''

# 001_8d7c5cdb52bbe725.txt, block 11 at line 229, under "开始训练"
SNIPPETS["s001_11_fit_generator_flow"] = r'''model.fit_generator(data_generator.flow(train_faces, train_emotions,
                                        batch_size),
                    steps_per_epoch=len(train_faces) / batch_size,
                    epochs=num_epochs, verbose=1, callbacks=callbacks,
                    validation_data=val_data)
'''

# 001_8d7c5cdb52bbe725.txt, block 12 at line 239, under "开始训练"
SNIPPETS["s001_12_mini_xception_training"] = r'''from keras.callbacks import CSVLogger, ModelCheckpoint, EarlyStopping
from keras.callbacks import ReduceLROnPlateau
from keras.preprocessing.image import ImageDataGenerator

from models.cnn import mini_XCEPTION
from utils.datasets import DataManager
from utils.datasets import split_data
from utils.preprocessor import preprocess_input

# parameters
batch_size = 32
num_epochs = 10000
input_shape = (64, 64, 1)
validation_split = .2
verbose = 1
num_classes = 7
patience = 50
base_path = '../trained_models/emotion_models/'

# data generator
data_generator = ImageDataGenerator(
                        featurewise_center=False,
                        featurewise_std_normalization=False,
                        rotation_range=10,
                        width_shift_range=0.1,
                        height_shift_range=0.1,
                        zoom_range=.1,
                        horizontal_flip=True)

# model parameters/compilation
model = mini_XCEPTION(input_shape, num_classes)
model.compile(optimizer='adam', loss='categorical_crossentropy',
              metrics=['accuracy'])
model.summary()


datasets = ['fer2013']
for dataset_name in datasets:
    print('Training dataset:', dataset_name)

    # callbacks
    log_file_path = base_path + dataset_name + '_emotion_training.log'
    csv_logger = CSVLogger(log_file_path, append=False)
    early_stop = EarlyStopping('val_loss', patience=patience)
    reduce_lr = ReduceLROnPlateau('val_loss', factor=0.1,
                                  patience=int(patience/4), verbose=1)
    trained_models_path = base_path + dataset_name + '_mini_XCEPTION'
    model_names = trained_models_path + '.{epoch:02d}-{val_acc:.2f}.hdf5'
    model_checkpoint = ModelCheckpoint(model_names, 'val_loss', verbose=1,
                                                    save_best_only=True)
    callbacks = [model_checkpoint, csv_logger, early_stop, reduce_lr]

    # loading dataset
    data_loader = DataManager(dataset_name, image_size=input_shape[:2])
    faces, emotions = data_loader.get_data()
    faces = preprocess_input(faces)
    num_samples, num_classes = emotions.shape
    train_data, val_data = split_data(faces, emotions, validation_split)
    train_faces, train_emotions = train_data
    model.fit_generator(data_generator.flow(train_faces, train_emotions,
                                            batch_size),
                        steps_per_epoch=len(train_faces) / batch_size,
                        epochs=num_epochs, verbose=1, callbacks=callbacks,
                        validation_data=val_data)
'''

# 001_8d7c5cdb52bbe725.txt, block 14 at line 363, under "回调函数"
SNIPPETS["s001_14_callbacks_fragment"] = r'''log_file_path = base_path + dataset_name + '_emotion_training.log'
csv_logger = CSVLogger(log_file_path, append=False)
early_stop = EarlyStopping('val_loss', patience=patience)
reduce_lr = ReduceLROnPlateau('val_loss', factor=0.1,
                              patience=int(patience/4), verbose=1)
trained_models_path = base_path + dataset_name + '_mini_XCEPTION'
model_names = trained_models_path + '.{epoch:02d}-{val_acc:.2f}.hdf5'
model_checkpoint = ModelCheckpoint(model_names, 'val_loss', verbose=1,
                                                save_best_only=True)
callbacks = [model_checkpoint, csv_logger, early_stop, reduce_lr]

# loading dataset
data_loader = DataManager(dataset_name, image_size=input_shape[:2])
faces, emotions = data_loader.get_data()
faces = preprocess_input(faces)
num_samples, num_classes = emotions.shape
train_data, val_data = split_data(faces, emotions, validation_split)
train_faces, train_emotions = train_data
model.fit_generator(data_generator.flow(train_faces, train_emotions,
                                        batch_size),
                    steps_per_epoch=len(train_faces) / batch_size,
                    epochs=num_epochs, verbose=1, callbacks=callbacks,
                    validation_data=val_data)
'''

# 001_8d7c5cdb52bbe725.txt, block 15 at line 393, under "CSVLogger"
SNIPPETS["s001_15_csv_logger"] = r'''csv_logger = CSVLogger('training.log')
model.fit(X_train, Y_train, callbacks=[csv_logger])
'''

# 001_8d7c5cdb52bbe725.txt, block 16 at line 402, under "EarlyStopping"
SNIPPETS["s001_16_early_stopping_defaults"] = r'''keras.callbacks.EarlyStopping(monitor='val_loss', min_delta=0, patience=0, verbose=0, mode='auto')
'''

# 001_8d7c5cdb52bbe725.txt, block 17 at line 411, under "EarlyStopping"
SNIPPETS["s001_17_early_stop_patience"] = r'''early_stop = EarlyStopping('val_loss', patience=patience)
'''

# 001_8d7c5cdb52bbe725.txt, block 18 at line 421, under "ReduceLROnPlateau"
SNIPPETS["s001_18_reduce_lr_defaults"] = r'''keras.callbacks.ReduceLROnPlateau(monitor='val_loss', factor=0.1, patience=10, verbose=0, mode='auto', min_delta=0.0001, cooldown=0, min_lr=0)
'''

# 001_8d7c5cdb52bbe725.txt, block 19 at line 434, under "ReduceLROnPlateau"
SNIPPETS["s001_19_reduce_lr_fit"] = r'''reduce_lr = ReduceLROnPlateau(monitor='val_loss', factor=0.2,
                              patience=5, min_lr=0.001)
model.fit(X_train, Y_train, callbacks=[reduce_lr])
'''

# 001_8d7c5cdb52bbe725.txt, block 20 at line 442, under "ModelCheckpoint"
SNIPPETS["s001_20_model_checkpoint_defaults"] = r'''keras.callbacks.ModelCheckpoint(filepath, monitor='val_loss', verbose=0, save_best_only=False, save_weights_only=False, mode='auto', period=1)
'''

# 001_8d7c5cdb52bbe725.txt, block 21 at line 462, under "ModelCheckpoint"
SNIPPETS["s001_21_model_checkpoint"] = r'''model_checkpoint = ModelCheckpoint(model_names, 'val_loss', verbose=1,
                                                    save_best_only=True)
'''

# 001_8d7c5cdb52bbe725.txt, block 22 at line 494, under "自定义的方法定义metrics"
SNIPPETS["s001_22_custom_metric"] = r'''import keras.backend as K

def mean_pred(y_true, y_pred):
    return K.mean(y_pred)

model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy', mean_pred])
'''

# 001_8d7c5cdb52bbe725.txt, block 23 at line 524, under "loss及metrics"
SNIPPETS["s001_23_regression_compile"] = r'''model.compile(optimizer='adam',
              loss='mse',
              metrics=['mae'])
model.summary()
'''

# 001_8d7c5cdb52bbe725.txt, block 24 at line 535, under "loss及metrics"
SNIPPETS["s001_24_classification_compile"] = r'''model.compile(optimizer='adam',
              loss='categorical_crossentropy',
              metrics=['accuracy'])
'''

# 001_8d7c5cdb52bbe725.txt, block 25 at line 543, under "loss及metrics"
SNIPPETS["s001_25_to_categorical"] = r'''from keras.utils.np_utils import to_categorical
categorical_labels = to_categorical(int_labels, num_classes=None)
'''

# 001_8d7c5cdb52bbe725.txt, block 26 at line 567, under "`flow`"
SNIPPETS["s001_26_image_flow"] = r'''import time
from keras.preprocessing.image import ImageDataGenerator
import numpy as np

imgs=np.random.randint(0,10,size=(7,100,100,3))

datagen = ImageDataGenerator(
    featurewise_center=True,
    featurewise_std_normalization=True,
    rotation_range=20,
    width_shift_range=0.2,
    height_shift_range=0.2,
    horizontal_flip=True)

f=datagen.flow(imgs,[0,1,2,3,4,5,6],batch_size=3,save_to_dir="output/")

# print(f.next()[1])
# time.sleep(2)
# print(f.next()[1])
# time.sleep(2)
# print(f.next()[1])

for index,(x,y) in enumerate(f):
    if index==10:
        break
    time.sleep(1)
    print(x.shape,y)
'''

# 001_8d7c5cdb52bbe725.txt, block 29 at line 632, under "`flow_from_directory`"
SNIPPETS["s001_29_flow_from_directory_save"] = r'''path = '/home/ubuntu/dataset/dogs_cats_sample/'
gen_path = '/home/ubuntu/dataset/dogs_cats_gen/'
datagen = image.ImageDataGenerator()
gen_data = datagen.flow_from_directory(path, batch_size=1, shuffle=False, 
                                       save_to_dir=gen_path+'18',
                                  save_prefix='gen', target_size=(224, 224))
for i in range(9):
    gen_data.next() #此处并不使用其返回值(x,y)元祖，只是将其保存图片。
fig = print_result(gen_path+'18/*')
'''

# 001_8d7c5cdb52bbe725.txt, block 30 at line 646, under "`Conv2D`"
SNIPPETS["s001_30_conv2d_defaults"] = r'''keras.layers.Conv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None)
'''

# 001_8d7c5cdb52bbe725.txt, block 31 at line 669, under "`Conv2D`"
SNIPPETS["s001_31_conv2d_regularized"] = r'''img_input = Input(input_shape)
x = Conv2D(8, (3, 3), strides=(1, 1), kernel_regularizer=regularization, use_bias=False)(img_input)
'''

# 002_5a5a51f7f7e9b0ca.txt, block 1 at line 35, under ""
SNIPPETS["s002_01_sequential_mlp"] = r'''model = Sequential()
model.add(Dense(N_HIDDEN, input_shape=(784,)))
model.add(Activation('relu'))
model.add(Dropout(DROPOUT))
model.add(Dense(N_HIDDEN))
model.add(Activation('relu'))
model.add(Dropout(DROPOUT))
model.add(Dense(nb_classes))
model.add(Activation('softmax'))
model.summary()
'''

# 002_5a5a51f7f7e9b0ca.txt, block 2 at line 54, under ""
SNIPPETS["s002_02_model_is_callable"] = r'''x = Input(shape=(784,))
# This works, and returns the 10-way softmax we defined above.
y = model(x)
'''

# 002_5a5a51f7f7e9b0ca.txt, block 3 at line 74, under ""
SNIPPETS["s002_03_early_stopping_fit"] = r'''from keras.callbacks import EarlyStopping
early_stopping = EarlyStopping(monitor='val_loss', patience=2)
model.fit(x, y, validation_split=0.2, callbacks=[early_stopping])
'''

# 002_5a5a51f7f7e9b0ca.txt, block 4 at line 81, under ""
SNIPPETS["s002_04_reproducible_tf1"] = r'''import numpy as np
import tensorflow as tf
import random as rn

# The below is necessary in Python 3.2.3 onwards to
# have reproducible behavior for certain hash-based operations.
# See these references for further details:
# https://docs.python.org/3.4/using/cmdline.html#envvar-PYTHONHASHSEED
# https://github.com/keras-team/keras/issues/2280#issuecomment-306959926

import os
os.environ['PYTHONHASHSEED'] = '0'

# The below is necessary for starting Numpy generated random numbers
# in a well-defined initial state.

np.random.seed(42)

# The below is necessary for starting core Python generated random numbers
# in a well-defined state.

rn.seed(12345)

# Force TensorFlow to use single thread.
# Multiple threads are a potential source of
# non-reproducible results.
# For further details, see: https://stackoverflow.com/questions/42022950/which-seeds-have-to-be-set-where-to-realize-100-reproducibility-of-training-res

session_conf = tf.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)

from keras import backend as K

# The below tf.set_random_seed() will make random number generation
# in the TensorFlow backend have a well-defined initial state.
# For further details, see: https://www.tensorflow.org/api_docs/python/tf/set_random_seed

tf.set_random_seed(1234)

sess = tf.Session(graph=tf.get_default_graph(), config=session_conf)
K.set_session(sess)

# Rest of code follows ...
'''

# 003_3f9a4ce67a0ebf32.txt, block 1 at line 5, under "加载模型"
SNIPPETS["s003_01_load_model_h5"] = r'''from tensorflow.keras.models import load_model

# 加载模型
model = load_model('model.h5')

# 查看模型结构
model.summary()

# 查看模型参数
print(model.get_weights())
'''

# 003_3f9a4ce67a0ebf32.txt, block 2 at line 24, under "加载参数"
SNIPPETS["s003_02_save_weights_h5"] = r'''from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

# 定义模型结构
model = Sequential([
    Dense(64, input_shape=(784,), activation='relu'),
    Dense(32, activation='relu'),
    Dense(10, activation='softmax')
])

# 训练模型
model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(train_images, train_labels, epochs=10, batch_size=32)

# 保存模型权重到HDF5文件
model.save_weights('model_weights.h5')
'''

# 003_3f9a4ce67a0ebf32.txt, block 3 at line 45, under "加载参数"
SNIPPETS["s003_03_load_weights_h5"] = r'''from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

# 定义模型结构
model = Sequential([
    Dense(64, input_shape=(784,), activation='relu'),
    Dense(32, activation='relu'),
    Dense(10, activation='softmax')
])

# 加载模型权重
model.load_weights('model_weights.h5')

# 进行预测
predictions = model.predict(test_images)
'''

# 003_3f9a4ce67a0ebf32.txt, block 6 at line 98, under "Backend_lists"
SNIPPETS["s003_06_callbacks_list"] = r'''"""
tensorflow.keras.callbacks.EarlyStopping :
monitor: 被监测的数据。
min_delta: 在被监测的数据中被认为是提升的最小变化， 例如，小于 min_delta 的绝对变化会被认为没有提升。
patience: 没有进步的训练轮数，在这之后训练就会被停止。
verbose: 详细信息模式。
mode: {auto, min, max} 其中之一。 在 min 模式中， 当被监测的数据停止下降，训练就会停止；在 max 模式中，当被监测的数据停止上升，训练就会停止；在 auto 模式中，方向会自动从被监测的数据的名字中判断出来。
baseline: 要监控的数量的基准值。 如果模型没有显示基准的改善，训练将停止。
restore_best_weights: 是否从具有监测数量的最佳值的时期恢复模型权重。 如果为 False，则使用在训练的最后一步获得的模型权重。

"""
"""
tensorflow.keras.callbacks.ModelCheckpoint 以某一频率保存Keras模型或模型权重
filepath	保存模型文件的路径。
monitor	要监测的指标
verbose	详细模式
save_best_only	保存最好的权重
mode	
save_weights_only	True：只保存权重
period	
"""
"""
https://vimsky.com/examples/usage/python-tf.keras.callbacks.TensorBoard-tf.html
tensorflow.keras.callbacks.TensorBoard
log_dir 保存要被 TensorBoard 解析的日志文件的目录路径。例如log_dir = os.path.join(working_dir, 'logs') 此目录不应被任何其他回调重用。
histogram_freq 计算模型层的激活和权重直方图的频率(以时期为单位)。如果设置为 0，则不会计算直方图。必须为直方图可视化指定验证数据(或拆分)。
write_graph 是否在 TensorBoard 中可视化图形。当 write_graph 设置为 True 时，日志文件可能会变得非常大。
write_images 是否编写模型权重以在 TensorBoard 中可视化为图像。
write_steps_per_second 是否将每秒的训练步数记录到 Tensorboard 中。这支持时代和批量频率记录。
update_freq 'batch' 或 'epoch' 或整数。使用 'batch' 时，在每批之后将损失和指标写入 TensorBoard。这同样适用于 'epoch' 。如果使用整数，比如说 1000 ，回调将每 1000 个批次将指标和损失写入 TensorBoard。请注意，过于频繁地写入 TensorBoard 会减慢您的训练速度。
profile_batch 分析批次以采样计算特征。 profile_batch 必须是非负整数或整数元组。一对正整数表示要分析的批次范围。默认情况下，分析是禁用的。
embeddings_freq 嵌入层将被可视化的频率(以时期为单位)。如果设置为 0，嵌入将不会被可视化。
embeddings_metadata 将嵌入层名称映射到文件的文件名的字典，在该文件中保存嵌入层的元数据。如果要对所有嵌入层使用相同的元数据文件，则可以传递单个文件名。
"""
callbacks_list = [
    tensorflow.keras.callbacks.EarlyStopping(
        monitor='accuracy',
        patience=10,
    ),
    tensorflow.keras.callbacks.ModelCheckpoint(
        filepath='./TFA-CLSTMNN/TFA-CLSTMNN_checkpoint_plus.h5',
        monitor='val_loss',
        save_best_only=True
    ),
    tensorflow.keras.callbacks.TensorBoard(
        log_dir='./TFA-CLSTMNN/TFA-CLSTMNN_train_log'
    )
]
'''

# 004_778c259389f6f5e9.txt, block 1 at line 17, under "Model类的方法和属性" (lines 1-15 of the block: the code; the rest is printed output)
SNIPPETS["s004_01_vgg16_attributes"] = r'''from keras.applications.vgg16 import VGG16 
base_model = VGG16(weights='imagenet', include_top=False)

print(len(base_model.layers))
print()
print(base_model.inputs) # 模型输入张量的列表，可能由多个输入
print(base_model.input)
print()
print(base_model.outputs) # 模型输入张量的列表，可能由多个输入
print(base_model.output)
print()
print(base_model.input_shape)
print(base_model.output_shape)
print()
print(base_model.summary())
'''

# 004_778c259389f6f5e9.txt, block 2 at line 98, under "Model类的方法和属性"
SNIPPETS["s004_02_get_config_from_config"] = r'''config = model.get_config()
# 对于Model类模型
model = Model.from_config(config)
# 或者，对于 Sequential:
model = Sequential.from_config(config)
'''

# 004_778c259389f6f5e9.txt, block 3 at line 110, under "Model类的方法和属性"
SNIPPETS["s004_03_json_roundtrip"] = r'''from keras.models import model_from_json

json_string = model.to_json()
model = model_from_json(json_string)
'''

# 004_778c259389f6f5e9.txt, block 4 at line 119, under "Model类的方法和属性"
SNIPPETS["s004_04_yaml_roundtrip"] = r'''from keras.models import model_from_yaml

yaml_string = model.to_yaml()
model = model_from_yaml(yaml_string)
'''

# 004_778c259389f6f5e9.txt, block 5 at line 137, under "Model 类继承"
SNIPPETS["s004_05_subclassed_mlp"] = r'''import keras

class SimpleMLP(keras.Model):

    def __init__(self, use_bn=False, use_dp=False, num_classes=10):
        super(SimpleMLP, self).__init__(name='mlp')
        self.use_bn = use_bn
        self.use_dp = use_dp
        self.num_classes = num_classes

        self.dense1 = keras.layers.Dense(32, activation='relu')
        self.dense2 = keras.layers.Dense(num_classes, activation='softmax')
        if self.use_dp:
            self.dp = keras.layers.Dropout(0.5)
        if self.use_bn:
            self.bn = keras.layers.BatchNormalization(axis=-1)

    def call(self, inputs):
        x = self.dense1(inputs)
        if self.use_dp:
            x = self.dp(x)
        if self.use_bn:
            x = self.bn(x)
        return self.dense2(x)

model = SimpleMLP()
model.compile(...)
model.fit(...)
'''

# 004_778c259389f6f5e9.txt, block 6 at line 192, under "基本使用"
SNIPPETS["s004_06_sequential_list"] = r'''from keras.models import Sequential
from keras.layers import Dense, Activation

model = Sequential([Dense(32, input_shape=(784,)),
                    Activation('relu'),
                    Dense(10),
                    Activation('softmax')])
'''

# 004_778c259389f6f5e9.txt, block 7 at line 204, under "基本使用"
SNIPPETS["s004_07_sequential_add"] = r'''model = Sequential()
model.add(Dense(32, input_dim=784))
model.add(Activation('relu'))
'''

# 004_778c259389f6f5e9.txt, block 8 at line 222, under "基本使用"
SNIPPETS["s004_08_input_shape"] = r'''model = Sequential()
model.add(Dense(32, input_shape=(784,)))
'''

# 004_778c259389f6f5e9.txt, block 9 at line 227, under "基本使用"
SNIPPETS["s004_09_input_dim"] = r'''model = Sequential()
model.add(Dense(32, input_dim=784))
'''

# 004_778c259389f6f5e9.txt, block 10 at line 242, under "基本使用"
SNIPPETS["s004_10_compile_variants"] = r'''# 多分类问题
model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

# 二分类问题
model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy'])

# 均方误差回归问题
model.compile(optimizer='rmsprop',
              loss='mse')

# 自定义评估标准函数
import keras.backend as K

def mean_pred(y_true, y_pred):
    return K.mean(y_pred)

model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy', mean_pred])
'''

# 004_778c259389f6f5e9.txt, block 11 at line 274, under "基本使用"
SNIPPETS["s004_11_binary_fit"] = r'''# 对于具有 2 个类的单输入模型（二进制分类）：

model = Sequential()
model.add(Dense(32, activation='relu', input_dim=100))
model.add(Dense(1, activation='sigmoid'))
model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy'])

# 生成虚拟数据
import numpy as np
data = np.random.random((1000, 100)) # 产生0~1之间的随机数，元组参数为数组维度
labels = np.random.randint(2, size=(1000, 1)) # 产生固定范围的随机整数，第一个参数是必须的[0,2)

# 训练模型，以 32 个样本为一个 batch 进行迭代
model.fit(data, labels, epochs=10, batch_size=32)
'''

# 004_778c259389f6f5e9.txt, block 12 at line 293, under "基本使用"
SNIPPETS["s004_12_multiclass_fit"] = r'''# 对于具有 10 个类的单输入模型（多分类分类）：

model = Sequential()
model.add(Dense(32, activation='relu', input_dim=100))
model.add(Dense(10, activation='softmax'))
model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

# 生成虚拟数据
import numpy as np
data = np.random.random((1000, 100))
labels = np.random.randint(10, size=(1000, 1))

# 将标签转换为分类的 one-hot 编码 (1000, 10)
one_hot_labels = keras.utils.to_categorical(labels, num_classes=10)

# 训练模型，以 32 个样本为一个 batch 进行迭代
model.fit(data, one_hot_labels, epochs=10, batch_size=32)
'''

# 004_778c259389f6f5e9.txt, block 15 at line 397, under "fit"
SNIPPETS["s004_15_fit_history_plot"] = r'''# fit model
history = model.fit(trainX, trainy, validation_data=(testX, testy), epochs=4000, verbose=0)

# plot training history
# 如果定义了评价指标metrics,也可以通过 “acc”, "val_acc" 访问历史记录
pyplot.plot(history.history['loss'], label='train')
pyplot.plot(history.history['val_loss'], label='test')
pyplot.legend()
pyplot.show()
'''

# 004_778c259389f6f5e9.txt, block 17 at line 448, under "evaluate"
SNIPPETS["s004_17_evaluate_unpack"] = r'''# evaluate the model
_, train_acc = model.evaluate(trainX, trainy, verbose=0)
_, test_acc = model.evaluate(testX, testy, verbose=0)
print('Train: %.3f, Test: %.3f' % (train_acc, test_acc))
'''

# 004_778c259389f6f5e9.txt, block 23 at line 608, under "Example 1:"
SNIPPETS["s004_23_random_batch_generator"] = r'''def generator(features, labels, batch_size):
 # Create empty arrays to contain batch of features and labels#
 batch_features = np.zeros((batch_size, 64, 64, 3))
 batch_labels = np.zeros((batch_size,1))
 while True:
   for i in range(batch_size):
     # choose random index in features
     index= random.choice(len(features),1)
     batch_features[i] = some_processing(features[index])
     batch_labels[i] = labels[index]
   yield batch_features, batch_labels
'''

# 004_778c259389f6f5e9.txt, block 29 at line 804, under ""
SNIPPETS["s004_29_mlp_softmax"] = r'''import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Activation
from keras.optimizers import SGD

# 生成虚拟数据
import numpy as np
x_train = np.random.random((1000, 20))
y_train = keras.utils.to_categorical(np.random.randint(10, size=(1000, 1)), num_classes=10)
x_test = np.random.random((100, 20))
y_test = keras.utils.to_categorical(np.random.randint(10, size=(100, 1)), num_classes=10)

model = Sequential()
# Dense(64) 是一个具有 64 个隐藏神经元的全连接层。
# 在第一层必须指定所期望的输入数据尺寸：
# 在这里，是一个 20 维的向量。
model.add(Dense(64, activation='relu', input_dim=20))
model.add(Dropout(0.5))
model.add(Dense(64, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy',
              optimizer=sgd,
              metrics=['accuracy'])

model.fit(x_train, y_train,
          epochs=20,
          batch_size=128)
score = model.evaluate(x_test, y_test, batch_size=128)
'''

# 004_778c259389f6f5e9.txt, block 30 at line 840, under "基于多层感知器的二分类："
SNIPPETS["s004_30_mlp_to_categorical"] = r'''from keras.utils import to_categorical
from keras.models import Sequential
from keras.layers import Dense, Dropout
from keras.optimizers import SGD

import numpy as np

# 生成虚拟数据
x_train = np.random.random((1000, 20))
y_train = to_categorical(np.random.randint(10, size=(1000,1)), 
                         num_classes=10)

x_test = np.random.random((100,20))
y_test = to_categorical(np.random.randint(10, size=(100,1)), 
                         num_classes=10)

# 创建模型
model = Sequential()
model.add(Dense(64, activation='relu', input_dim=20))
model.add(Dropout(0.5))

model.add(Dense(64, activation='relu'))
model.add(Dropout(0.5))

model.add(Dense(10, activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)

# 编译模型
model.compile(loss='categorical_crossentropy',
             optimizer=sgd,
             metrics=['accuracy'])

# 拟合模型
model.fit(x_train, y_train,
         epochs=20,
         batch_size=128)

score = model.evaluate(x_test, y_test, batch_size=128)

print(score)
'''

# 004_778c259389f6f5e9.txt, block 31 at line 886, under "类似 VGG 的卷积神经网络："
SNIPPETS["s004_31_vgg_like_cnn"] = r'''import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Flatten
from keras.layers import Conv2D, MaxPooling2D
from keras.optimizers import SGD

# 生成虚拟数据
x_train = np.random.random((100, 100, 100, 3))
y_train = keras.utils.to_categorical(np.random.randint(10, size=(100, 1)), num_classes=10)
x_test = np.random.random((20, 100, 100, 3))
y_test = keras.utils.to_categorical(np.random.randint(10, size=(20, 1)), num_classes=10)

model = Sequential()
# 输入: 3 通道 100x100 像素图像 -> (100, 100, 3) 张量。
# 使用 32 个大小为 3x3 的卷积滤波器。
model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(100, 100, 3)))
model.add(Conv2D(32, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))

model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))

model.add(Flatten())
model.add(Dense(256, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy', optimizer=sgd)

model.fit(x_train, y_train, batch_size=32, epochs=10)
score = model.evaluate(x_test, y_test, batch_size=32)
'''

# 004_778c259389f6f5e9.txt, block 32 at line 928, under "基于 LSTM 的序列分类："
SNIPPETS["s004_32_lstm_classifier"] = r'''from keras.models import Sequential
from keras.layers import Dense, Dropout
from keras.layers import Embedding
from keras.layers import LSTM

max_features = 1024

model = Sequential()
model.add(Embedding(max_features, output_dim=256))
model.add(LSTM(128))
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

model.fit(x_train, y_train, batch_size=16, epochs=10)
score = model.evaluate(x_test, y_test, batch_size=16)
'''

# 004_778c259389f6f5e9.txt, block 33 at line 952, under "基于 1D 卷积的序列分类："
SNIPPETS["s004_33_conv1d_classifier"] = r'''from keras.models import Sequential
from keras.layers import Dense, Dropout
from keras.layers import Embedding
from keras.layers import Conv1D, GlobalAveragePooling1D, MaxPooling1D

seq_length = 64

model = Sequential()
model.add(Conv1D(64, 3, activation='relu', input_shape=(seq_length, 100)))
model.add(Conv1D(64, 3, activation='relu'))
model.add(MaxPooling1D(3))
model.add(Conv1D(128, 3, activation='relu'))
model.add(Conv1D(128, 3, activation='relu'))
model.add(GlobalAveragePooling1D())
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

model.fit(x_train, y_train, batch_size=16, epochs=10)
score = model.evaluate(x_test, y_test, batch_size=16)
'''

# 004_778c259389f6f5e9.txt, block 34 at line 986, under "基于栈式 LSTM 的序列分类"
SNIPPETS["s004_34_stacked_lstm"] = r'''from keras.models import Sequential
from keras.layers import LSTM, Dense
import numpy as np

data_dim = 16
timesteps = 8
num_classes = 10

# 期望输入数据尺寸: (batch_size, timesteps, data_dim)
model = Sequential()
model.add(LSTM(32, return_sequences=True,
               input_shape=(timesteps, data_dim)))  # 返回维度为 32 的向量序列
model.add(LSTM(32, return_sequences=True))  # 返回维度为 32 的向量序列
model.add(LSTM(32))  # 返回维度为 32 的单个向量
model.add(Dense(10, activation='softmax'))

model.compile(loss='categorical_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

# 生成虚拟训练数据
x_train = np.random.random((1000, timesteps, data_dim))
y_train = np.random.random((1000, num_classes))

# 生成虚拟验证数据
x_val = np.random.random((100, timesteps, data_dim))
y_val = np.random.random((100, num_classes))

model.fit(x_train, y_train,
          batch_size=64, epochs=5,
          validation_data=(x_val, y_val))
'''

# 004_778c259389f6f5e9.txt, block 35 at line 1026, under ""stateful" 渲染的的栈式 LSTM 模型"
SNIPPETS["s004_35_stateful_stacked_lstm"] = r'''from keras.models import Sequential
from keras.layers import LSTM, Dense
import numpy as np

data_dim = 16
timesteps = 8
num_classes = 10
batch_size = 32

# 期望输入数据尺寸: (batch_size, timesteps, data_dim)
# 请注意，我们必须提供完整的 batch_input_shape，因为网络是有状态的。
# 第 k 批数据的第 i 个样本是第 k-1 批数据的第 i 个样本的后续。
model = Sequential()
model.add(LSTM(32, return_sequences=True, stateful=True,
               batch_input_shape=(batch_size, timesteps, data_dim)))
model.add(LSTM(32, return_sequences=True, stateful=True))
model.add(LSTM(32, stateful=True))
model.add(Dense(10, activation='softmax'))

model.compile(loss='categorical_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

# 生成虚拟训练数据
x_train = np.random.random((batch_size * 10, timesteps, data_dim))
y_train = np.random.random((batch_size * 10, num_classes))

# 生成虚拟验证数据
x_val = np.random.random((batch_size * 3, timesteps, data_dim))
y_val = np.random.random((batch_size * 3, num_classes))

model.fit(x_train, y_train,
          batch_size=batch_size, epochs=5, shuffle=False,
          validation_data=(x_val, y_val))
'''

# 004_778c259389f6f5e9.txt, block 36 at line 1081, under "全连接网络"
SNIPPETS["s004_36_functional_dense"] = r'''from keras.layers import Input, Dense
from keras.models import Model

# 这部分返回一个张量
inputs = Input(shape=(784,))

# 层的实例是可调用的，它以张量为参数，并且返回一个张量
x = Dense(64, activation='relu')(inputs)
x = Dense(64, activation='relu')(x)
predictions = Dense(10, activation='softmax')(x)

# 这部分创建了一个包含输入层和三个全连接层的模型
model = Model(inputs=inputs, outputs=predictions)

model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])
model.fit(data, labels)  # 开始训练
'''

# 004_778c259389f6f5e9.txt, block 37 at line 1111, under "模型调用"
SNIPPETS["s004_37_model_is_callable"] = r'''x = Input(shape=(784,))
# 这是可行的，并且返回上面定义的 10-way softmax。
y = model(x) # 重用之前定义好的model,可看做一层
'''

# 004_778c259389f6f5e9.txt, block 38 at line 1119, under "模型调用"
SNIPPETS["s004_38_time_distributed_model"] = r'''from keras.layers import TimeDistributed

# 输入张量是 20 个时间步的序列，
# 每一个时间为一个 784 维的向量
input_sequences = Input(shape=(20, 784))

# 这部分将我们之前定义的模型应用于 输入序列中的 每个时间步。
# 之前定义的模型的输出是一个 10-way softmax，
# 因而下面的层的输出将是维度为 10 的 20 个向量的序列。
# 即 产生时序输出 
processed_sequences = TimeDistributed(model)(input_sequences)
'''

# 004_778c259389f6f5e9.txt, block 39 at line 1153, under "多输入多输出模型"
SNIPPETS["s004_39_multi_input_multi_output"] = r'''from keras.layers import Input, Embedding, LSTM, Dense
from keras.models import Model

# 标题输入：接收一个含有 100 个整数的序列，每个整数在 1 到 10000 之间。
# 注意我们可以通过传递一个 "name" 参数来命名任何层。
main_input = Input(shape=(100,), dtype='int32', name='main_input')

# Embedding 层将输入序列编码为一个稠密向量的序列，
# input_dim 是词汇表的大小，输入中的整数值范围为[0,1000)
# input_length: 输入序列长度
# output_dim: 要编码成的向量的维度
# input: (batch_size, input_length)
x = Embedding(output_dim=512, input_dim=10000, input_length=100)(main_input)
# output: (batch_size, input_length, output_dim)

# LSTM 层把向量序列转换成单个向量，
# 它包含整个序列的上下文信息
lstm_out = LSTM(32)(x)

# 在这里，我们插入辅助损失，使得即使在模型主损失很高的情况下，LSTM 层和 Embedding 层都能被平稳地训练。
auxiliary_output = Dense(1, activation='sigmoid', name='aux_output')(lstm_out)

# 此时，我们将辅助输入数据与 LSTM 层的输出拼接起来，输入到模型中：
auxiliary_input = Input(shape=(5,), name='aux_input')
x = keras.layers.concatenate([lstm_out, auxiliary_input])

# 堆叠多个全连接网络层
x = Dense(64, activation='relu')(x)
x = Dense(64, activation='relu')(x)
x = Dense(64, activation='relu')(x)

# 最后添加主要的逻辑回归层
main_output = Dense(1, activation='sigmoid', name='main_output')(x)

#最后定义一个具有两个输入和两个输出的模型：
model = Model(inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output])

# 编译模型，并给辅助损失分配一个 0.2 的权重
# 如果要为不同的输出指定不同的 `loss_weights` 或 `loss`，可以使用列表或字典。
# 在这里，我们给 `loss` 参数传递单个损失函数，这个损失将用于所有的输出。
# 模型将最小化的误差值是由 `loss_weights` 系数加权的*加权总和*误差。
model.compile(optimizer='rmsprop', loss='binary_crossentropy',
              loss_weights=[1., 0.2])

# 我们可以通过传递输入数组和目标数组的列表来训练模型：
model.fit([headline_data, additional_data], [labels, labels],
          epochs=50, batch_size=32)
'''

# 004_778c259389f6f5e9.txt, block 40 at line 1206, under "多输入多输出模型"
SNIPPETS["s004_40_named_losses_dicts"] = r'''# 由于输入和输出均被命名了（在定义时传递了一个 `name` 参数），我们也可以通过以下方式编译模型：
model.compile(optimizer='rmsprop',
              loss={'main_output': 'binary_crossentropy', 'aux_output': 'binary_crossentropy'},
              loss_weights={'main_output': 1., 'aux_output': 0.2})

# 然后使用以下方式训练：
model.fit({'main_input': headline_data, 'aux_input': additional_data},
          {'main_output': labels, 'aux_output': labels},
          epochs=50, batch_size=32)
'''

# 004_778c259389f6f5e9.txt, block 41 at line 1235, under "共享网络层"
SNIPPETS["s004_41_tweet_inputs"] = r'''import keras
from keras.layers import Input, LSTM, Dense
from keras.models import Model

tweet_a = Input(shape=(280, 256))
tweet_b = Input(shape=(280, 256))
'''

# 004_778c259389f6f5e9.txt, block 42 at line 1247, under "共享网络层"
SNIPPETS["s004_42_shared_lstm"] = r'''# 这一层可以输入一个矩阵，并返回一个 64 维的向量
shared_lstm = LSTM(64)

# 当我们重用相同的图层实例多次，图层的权重也会被重用 (它其实就是同一层)
encoded_a = shared_lstm(tweet_a)
encoded_b = shared_lstm(tweet_b)

# 然后再连接两个向量：
merged_vector = keras.layers.concatenate([encoded_a, encoded_b], axis=-1)

# 再在上面添加一个逻辑回归层
predictions = Dense(1, activation='sigmoid')(merged_vector)

# 定义一个连接推特输入和预测的可训练的模型
model = Model(inputs=[tweet_a, tweet_b], outputs=predictions)

model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy'])
model.fit([data_a, data_b], labels, epochs=10)
'''

# 004_778c259389f6f5e9.txt, block 43 at line 1283, under "层「节点」的概念"
SNIPPETS["s004_43_layer_output"] = r'''a = Input(shape=(280, 256))

lstm = LSTM(32)
encoded_a = lstm(a)

assert lstm.output == encoded_a
'''

# 004_778c259389f6f5e9.txt, block 44 at line 1295, under "层「节点」的概念"
SNIPPETS["s004_44_multiple_nodes_output"] = r'''a = Input(shape=(280, 256))
b = Input(shape=(280, 256))

lstm = LSTM(32)
encoded_a = lstm(a)
encoded_b = lstm(b)

lstm.output
'''

# 004_778c259389f6f5e9.txt, block 46 at line 1316, under "层「节点」的概念"
SNIPPETS["s004_46_get_output_at"] = r'''assert lstm.get_output_at(0) == encoded_a
assert lstm.get_output_at(1) == encoded_b
'''

# 004_778c259389f6f5e9.txt, block 47 at line 1326, under "层「节点」的概念"
SNIPPETS["s004_47_get_input_shape_at"] = r'''a = Input(shape=(32, 32, 3))
b = Input(shape=(64, 64, 3))

conv = Conv2D(16, (3, 3), padding='same')
conved_a = conv(a)

# 到目前为止只有一个输入，以下可行：
assert conv.input_shape == (None, 32, 32, 3)

conved_b = conv(b)
# 现在 `.input_shape` 属性不可行，但是这样可以：
assert conv.get_input_shape_at(0) == (None, 32, 32, 3)
assert conv.get_input_shape_at(1) == (None, 64, 64, 3)
'''

# 004_778c259389f6f5e9.txt, block 48 at line 1351, under "Model 类方法"
SNIPPETS["s004_48_functional_callable"] = r'''from keras.models import Model
from keras.layers import Input, Dense

a = Input(shape=(32,))
b = Dense(32)(a)
model = Model(inputs=a, outputs=b)
'''

# 004_778c259389f6f5e9.txt, block 49 at line 1365, under "Model 类方法"
SNIPPETS["s004_49_multi_io_fragment"] = r'''model = Model(inputs=[a1, a2], outputs=[b1, b3, b3])
'''

# 004_778c259389f6f5e9.txt, block 62 at line 1829, under "Inception 模型"
SNIPPETS["s004_62_inception_module"] = r'''from keras.layers import Conv2D, MaxPooling2D, Input

input_img = Input(shape=(256, 256, 3))

tower_1 = Conv2D(64, (1, 1), padding='same', activation='relu')(input_img)
tower_1 = Conv2D(64, (3, 3), padding='same', activation='relu')(tower_1)

tower_2 = Conv2D(64, (1, 1), padding='same', activation='relu')(input_img)
tower_2 = Conv2D(64, (5, 5), padding='same', activation='relu')(tower_2)

tower_3 = MaxPooling2D((3, 3), strides=(1, 1), padding='same')(input_img)
tower_3 = Conv2D(64, (1, 1), padding='same', activation='relu')(tower_3)

output = keras.layers.concatenate([tower_1, tower_2, tower_3], axis=1)
'''

# 004_778c259389f6f5e9.txt, block 63 at line 1851, under "卷积层上的残差连接"
SNIPPETS["s004_63_residual_connection"] = r'''from keras.layers import Conv2D, Input

# 输入张量为 3 通道 256x256 图像
x = Input(shape=(256, 256, 3))
# 3 输出通道（与输入通道相同）的 3x3 卷积核
y = Conv2D(3, (3, 3), padding='same')(x)
# 返回 x + y
z = keras.layers.add([x, y])
'''

# 004_778c259389f6f5e9.txt, block 64 at line 1867, under "共享视觉模型"
SNIPPETS["s004_64_shared_vision_model"] = r'''from keras.layers import Conv2D, MaxPooling2D, Input, Dense, Flatten
from keras.models import Model

# 首先，定义视觉模型
digit_input = Input(shape=(27, 27, 1))
x = Conv2D(64, (3, 3))(digit_input)
x = Conv2D(64, (3, 3))(x)
x = MaxPooling2D((2, 2))(x)
out = Flatten()(x)

vision_model = Model(digit_input, out)

# 然后，定义区分数字的模型
digit_a = Input(shape=(27, 27, 1))
digit_b = Input(shape=(27, 27, 1))

# 视觉模型将被共享，包括权重和其他所有
out_a = vision_model(digit_a)
out_b = vision_model(digit_b)

concatenated = keras.layers.concatenate([out_a, out_b])
out = Dense(1, activation='sigmoid')(concatenated)

classification_model = Model([digit_a, digit_b], out)
'''

# 004_778c259389f6f5e9.txt, block 65 at line 1901, under "视觉问答模型"
SNIPPETS["s004_65_visual_qa"] = r'''from keras.layers import Conv2D, MaxPooling2D, Flatten
from keras.layers import Input, LSTM, Embedding, Dense
from keras.models import Model, Sequential

# 首先，让我们用 Sequential 来定义一个视觉模型。
# 这个模型会把一张图像编码为向量。
vision_model = Sequential()
vision_model.add(Conv2D(64, (3, 3), activation='relu', padding='same', input_shape=(224, 224, 3)))
vision_model.add(Conv2D(64, (3, 3), activation='relu'))
vision_model.add(MaxPooling2D((2, 2)))
vision_model.add(Conv2D(128, (3, 3), activation='relu', padding='same'))
vision_model.add(Conv2D(128, (3, 3), activation='relu'))
vision_model.add(MaxPooling2D((2, 2)))
vision_model.add(Conv2D(256, (3, 3), activation='relu', padding='same'))
vision_model.add(Conv2D(256, (3, 3), activation='relu'))
vision_model.add(Conv2D(256, (3, 3), activation='relu'))
vision_model.add(MaxPooling2D((2, 2)))
vision_model.add(Flatten())

# 现在让我们用视觉模型来得到一个输出张量：
image_input = Input(shape=(224, 224, 3))
encoded_image = vision_model(image_input)

# 接下来，定义一个语言模型来将问题编码成一个向量。
# 每个问题最长 100 个词，词的索引从 1 到 9999.
question_input = Input(shape=(100,), dtype='int32')
embedded_question = Embedding(input_dim=10000, output_dim=256, input_length=100)(question_input)
encoded_question = LSTM(256)(embedded_question)

# 连接问题向量和图像向量：
merged = keras.layers.concatenate([encoded_question, encoded_image])

# 然后在上面训练一个 1000 词的逻辑回归模型：
output = Dense(1000, activation='softmax')(merged)

# 最终模型：
vqa_model = Model(inputs=[image_input, question_input], outputs=output)

# 下一步就是在真实数据上训练模型。
'''

# 004_778c259389f6f5e9.txt, block 66 at line 1948, under "视频问答模型"
SNIPPETS["s004_66_video_qa"] = r'''from keras.layers import TimeDistributed

video_input = Input(shape=(100, 224, 224, 3))
# 这是基于之前定义的视觉模型（权重被重用）构建的视频编码
encoded_frame_sequence = TimeDistributed(vision_model)(video_input)  # 输出为向量的序列
encoded_video = LSTM(256)(encoded_frame_sequence)  # 输出为一个向量

# 这是问题编码器的模型级表示，重复使用与之前相同的权重：
question_encoder = Model(inputs=question_input, outputs=encoded_question)

# 让我们用它来编码这个问题：
video_question_input = Input(shape=(100,), dtype='int32')
encoded_video_question = question_encoder(video_question_input)

# 这就是我们的视频问答模式：
merged = keras.layers.concatenate([encoded_video, encoded_video_question])
output = Dense(1000, activation='softmax')(merged)
video_qa_model = Model(inputs=[video_input, video_question_input], outputs=output)
'''

# ======================================================================
# API signatures quoted by the notes
# ======================================================================
# 001_8d7c5cdb52bbe725.txt, block 33 at line 786, under "`fit_generator`"
SIGNATURES["s001_33_fit_generator_signature"] = r'''fit_generator(generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None, validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0)
'''

# 003_3f9a4ce67a0ebf32.txt, block 4 at line 71, under "模型保存"
SIGNATURES["s003_04_save_signature"] = r'''# 将模型保存到Tensorflow SavedModel或单个HDF5文件。
model.save(self,
           filepath,
           overwrite=True,
           include_optimizer=True,
           save_format=None,
           signatures=None,
           options=None)
'''

# 003_3f9a4ce67a0ebf32.txt, block 5 at line 83, under "模型保存"
SIGNATURES["s003_05_save_weights_signature"] = r'''model.save_weights()# 保存所有层权重
save_weights(self, filepath, overwrite=True, save_format=None)
'''

# 004_778c259389f6f5e9.txt, block 13 at line 323, under "compile"
SIGNATURES["s004_13_compile_signature"] = r'''compile(optimizer, loss=None, metrics=None, loss_weights=None, sample_weight_mode=None, weighted_metrics=None, target_tensors=None)
'''

# 004_778c259389f6f5e9.txt, block 14 at line 354, under "fit"
SIGNATURES["s004_14_fit_signature"] = r'''fit(x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None)
'''

# 004_778c259389f6f5e9.txt, block 16 at line 420, under "evaluate"
SIGNATURES["s004_16_evaluate_signature"] = r'''evaluate(x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None)
'''

# 004_778c259389f6f5e9.txt, block 18 at line 461, under "predict"
SIGNATURES["s004_18_predict_signature"] = r'''predict(x, batch_size=None, verbose=0, steps=None)
'''

# 004_778c259389f6f5e9.txt, block 19 at line 488, under "train_on_batch"
SIGNATURES["s004_19_train_on_batch_signature"] = r'''train_on_batch(x, y, sample_weight=None, class_weight=None)
'''

# 004_778c259389f6f5e9.txt, block 20 at line 511, under "test_on_batch"
SIGNATURES["s004_20_test_on_batch_signature"] = r'''test_on_batch(x, y, sample_weight=None)
'''

# 004_778c259389f6f5e9.txt, block 21 at line 534, under "predict_on_batch"
SIGNATURES["s004_21_predict_on_batch_signature"] = r'''predict_on_batch(x)
'''

# 004_778c259389f6f5e9.txt, block 22 at line 553, under "fit_generator"
SIGNATURES["s004_22_fit_generator_signature"] = r'''fit_generator(generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None, validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0)
'''

# 004_778c259389f6f5e9.txt, block 26 at line 692, under "evaluate_generator"
SIGNATURES["s004_26_evaluate_generator_signature"] = r'''evaluate_generator(generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False, verbose=0)
'''

# 004_778c259389f6f5e9.txt, block 27 at line 727, under "predict_generator"
SIGNATURES["s004_27_predict_generator_signature"] = r'''predict_generator(generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False, verbose=0)
'''

# 004_778c259389f6f5e9.txt, block 28 at line 759, under "get_layer"
SIGNATURES["s004_28_get_layer_signature"] = r'''get_layer(name=None, index=None)
'''

# 004_778c259389f6f5e9.txt, block 50 at line 1374, under "compile"
SIGNATURES["s004_50_compile_signature"] = r'''compile(optimizer, loss=None, metrics=None, loss_weights=None, sample_weight_mode=None, weighted_metrics=None, target_tensors=None)
'''

# 004_778c259389f6f5e9.txt, block 51 at line 1417, under "fit"
SIGNATURES["s004_51_fit_signature"] = r'''fit(x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None)
'''

# 004_778c259389f6f5e9.txt, block 52 at line 1475, under "evaluate"
SIGNATURES["s004_52_evaluate_signature"] = r'''evaluate(x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None)
'''

# 004_778c259389f6f5e9.txt, block 53 at line 1513, under "predict"
SIGNATURES["s004_53_predict_signature"] = r'''predict(x, batch_size=None, verbose=0, steps=None)
'''

# 004_778c259389f6f5e9.txt, block 54 at line 1543, under "train_on_batch"
SIGNATURES["s004_54_train_on_batch_signature"] = r'''train_on_batch(x, y, sample_weight=None, class_weight=None)
'''

# 004_778c259389f6f5e9.txt, block 55 at line 1574, under "test_on_batch"
SIGNATURES["s004_55_test_on_batch_signature"] = r'''test_on_batch(x, y, sample_weight=None)
'''

# 004_778c259389f6f5e9.txt, block 56 at line 1602, under "predict_on_batch"
SIGNATURES["s004_56_predict_on_batch_signature"] = r'''predict_on_batch(x)
'''

# 004_778c259389f6f5e9.txt, block 57 at line 1622, under "fit_generator"
SIGNATURES["s004_57_fit_generator_signature"] = r'''fit_generator(generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None, validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0)
'''

# 004_778c259389f6f5e9.txt, block 59 at line 1720, under "evaluate_generator"
SIGNATURES["s004_59_evaluate_generator_signature"] = r'''evaluate_generator(generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False, verbose=0)
'''

# 004_778c259389f6f5e9.txt, block 60 at line 1758, under "predict_generator"
SIGNATURES["s004_60_predict_generator_signature"] = r'''predict_generator(generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False, verbose=0)
'''

# 004_778c259389f6f5e9.txt, block 61 at line 1794, under "get_layer"
SIGNATURES["s004_61_get_layer_signature"] = r'''get_layer(self, name=None, index=None)
'''

# ======================================================================
# Printed output shown by the notes (expected values)
# ======================================================================
# 001_8d7c5cdb52bbe725.txt, block 27 at line 597, under "`flow`"
OUTPUTS["s001_27_image_flow_output"] = r'''(3, 100, 100, 3) [5 0 6]
(3, 100, 100, 3) [3 2 1]
(1, 100, 100, 3) [4]
(3, 100, 100, 3) [6 0 4]
(3, 100, 100, 3) [1 2 3]
(1, 100, 100, 3) [5]
(3, 100, 100, 3) [6 1 0]
(3, 100, 100, 3) [4 5 2]
(1, 100, 100, 3) [3]
(3, 100, 100, 3) [3 2 1]
'''

# 001_8d7c5cdb52bbe725.txt, block 32 at line 679, under "`summary`"
OUTPUTS["s001_32_mini_xception_summary"] = r'''__________________________________________________________________________________________________
Layer (type)                    Output Shape         Param #     Connected to                     
==================================================================================================
input_1 (InputLayer)            (None, 64, 64, 1)    0                                            
__________________________________________________________________________________________________
conv2d_1 (Conv2D)               (None, 62, 62, 8)    72          input_1[0][0]                    
__________________________________________________________________________________________________
batch_normalization_1 (BatchNor (None, 62, 62, 8)    32          conv2d_1[0][0]                   
__________________________________________________________________________________________________
activation_1 (Activation)       (None, 62, 62, 8)    0           batch_normalization_1[0][0]      
__________________________________________________________________________________________________
conv2d_2 (Conv2D)               (None, 60, 60, 8)    576         activation_1[0][0]               
__________________________________________________________________________________________________
batch_normalization_2 (BatchNor (None, 60, 60, 8)    32          conv2d_2[0][0]                   
__________________________________________________________________________________________________
activation_2 (Activation)       (None, 60, 60, 8)    0           batch_normalization_2[0][0]      
__________________________________________________________________________________________________
separable_conv2d_1 (SeparableCo (None, 60, 60, 16)   200         activation_2[0][0]               
__________________________________________________________________________________________________
batch_normalization_4 (BatchNor (None, 60, 60, 16)   64          separable_conv2d_1[0][0]         
__________________________________________________________________________________________________
activation_3 (Activation)       (None, 60, 60, 16)   0           batch_normalization_4[0][0]      
__________________________________________________________________________________________________
separable_conv2d_2 (SeparableCo (None, 60, 60, 16)   400         activation_3[0][0]               
__________________________________________________________________________________________________
batch_normalization_5 (BatchNor (None, 60, 60, 16)   64          separable_conv2d_2[0][0]         
__________________________________________________________________________________________________
conv2d_3 (Conv2D)               (None, 30, 30, 16)   128         activation_2[0][0]               
__________________________________________________________________________________________________
max_pooling2d_1 (MaxPooling2D)  (None, 30, 30, 16)   0           batch_normalization_5[0][0]      
__________________________________________________________________________________________________
batch_normalization_3 (BatchNor (None, 30, 30, 16)   64          conv2d_3[0][0]                   
__________________________________________________________________________________________________
add_1 (Add)                     (None, 30, 30, 16)   0           max_pooling2d_1[0][0]            
                                                                 batch_normalization_3[0][0]      
__________________________________________________________________________________________________
separable_conv2d_3 (SeparableCo (None, 30, 30, 32)   656         add_1[0][0]                      
__________________________________________________________________________________________________
batch_normalization_7 (BatchNor (None, 30, 30, 32)   128         separable_conv2d_3[0][0]         
__________________________________________________________________________________________________
activation_4 (Activation)       (None, 30, 30, 32)   0           batch_normalization_7[0][0]      
__________________________________________________________________________________________________
separable_conv2d_4 (SeparableCo (None, 30, 30, 32)   1312        activation_4[0][0]               
__________________________________________________________________________________________________
batch_normalization_8 (BatchNor (None, 30, 30, 32)   128         separable_conv2d_4[0][0]         
__________________________________________________________________________________________________
conv2d_4 (Conv2D)               (None, 15, 15, 32)   512         add_1[0][0]                      
__________________________________________________________________________________________________
max_pooling2d_2 (MaxPooling2D)  (None, 15, 15, 32)   0           batch_normalization_8[0][0]      
__________________________________________________________________________________________________
batch_normalization_6 (BatchNor (None, 15, 15, 32)   128         conv2d_4[0][0]                   
__________________________________________________________________________________________________
add_2 (Add)                     (None, 15, 15, 32)   0           max_pooling2d_2[0][0]            
                                                                 batch_normalization_6[0][0]      
__________________________________________________________________________________________________
separable_conv2d_5 (SeparableCo (None, 15, 15, 64)   2336        add_2[0][0]                      
__________________________________________________________________________________________________
batch_normalization_10 (BatchNo (None, 15, 15, 64)   256         separable_conv2d_5[0][0]         
__________________________________________________________________________________________________
activation_5 (Activation)       (None, 15, 15, 64)   0           batch_normalization_10[0][0]     
__________________________________________________________________________________________________
separable_conv2d_6 (SeparableCo (None, 15, 15, 64)   4672        activation_5[0][0]               
__________________________________________________________________________________________________
batch_normalization_11 (BatchNo (None, 15, 15, 64)   256         separable_conv2d_6[0][0]         
__________________________________________________________________________________________________
conv2d_5 (Conv2D)               (None, 8, 8, 64)     2048        add_2[0][0]                      
__________________________________________________________________________________________________
max_pooling2d_3 (MaxPooling2D)  (None, 8, 8, 64)     0           batch_normalization_11[0][0]     
__________________________________________________________________________________________________
batch_normalization_9 (BatchNor (None, 8, 8, 64)     256         conv2d_5[0][0]                   
__________________________________________________________________________________________________
add_3 (Add)                     (None, 8, 8, 64)     0           max_pooling2d_3[0][0]            
                                                                 batch_normalization_9[0][0]      
__________________________________________________________________________________________________
separable_conv2d_7 (SeparableCo (None, 8, 8, 128)    8768        add_3[0][0]                      
__________________________________________________________________________________________________
batch_normalization_13 (BatchNo (None, 8, 8, 128)    512         separable_conv2d_7[0][0]         
__________________________________________________________________________________________________
activation_6 (Activation)       (None, 8, 8, 128)    0           batch_normalization_13[0][0]     
__________________________________________________________________________________________________
separable_conv2d_8 (SeparableCo (None, 8, 8, 128)    17536       activation_6[0][0]               
__________________________________________________________________________________________________
batch_normalization_14 (BatchNo (None, 8, 8, 128)    512         separable_conv2d_8[0][0]         
__________________________________________________________________________________________________
conv2d_6 (Conv2D)               (None, 4, 4, 128)    8192        add_3[0][0]                      
__________________________________________________________________________________________________
max_pooling2d_4 (MaxPooling2D)  (None, 4, 4, 128)    0           batch_normalization_14[0][0]     
__________________________________________________________________________________________________
batch_normalization_12 (BatchNo (None, 4, 4, 128)    512         conv2d_6[0][0]                   
__________________________________________________________________________________________________
add_4 (Add)                     (None, 4, 4, 128)    0           max_pooling2d_4[0][0]            
                                                                 batch_normalization_12[0][0]     
__________________________________________________________________________________________________
conv2d_7 (Conv2D)               (None, 4, 4, 2)      2306        add_4[0][0]                      
__________________________________________________________________________________________________
global_average_pooling2d_1 (Glo (None, 2)            0           conv2d_7[0][0]                   
__________________________________________________________________________________________________
predictions (Activation)        (None, 2)            0           global_average_pooling2d_1[0][0] 
==================================================================================================
Total params: 52,658
Trainable params: 51,186
Non-trainable params: 1,472
'''

# 004_778c259389f6f5e9.txt, block 1 at line 17, under "Model类的方法和属性" (lines 16- of the block: the printed output)
OUTPUTS["s004_01_vgg16_output"] = r'''# =================== #
19

[<tf.Tensor 'input_1:0' shape=(?, ?, ?, 3) dtype=float32>]
Tensor("input_1:0", shape=(?, ?, ?, 3), dtype=float32)

[<tf.Tensor 'block5_pool/MaxPool:0' shape=(?, ?, ?, 512) dtype=float32>]
Tensor("block5_pool/MaxPool:0", shape=(?, ?, ?, 512), dtype=float32)

(None, None, None, 3)
(None, None, None, 512)

_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
input_1 (InputLayer)         (None, None, None, 3)     0         
_________________________________________________________________
block1_conv1 (Conv2D)        (None, None, None, 64)    1792      
_________________________________________________________________
block1_conv2 (Conv2D)        (None, None, None, 64)    36928     
_________________________________________________________________
block1_pool (MaxPooling2D)   (None, None, None, 64)    0         
_________________________________________________________________
block2_conv1 (Conv2D)        (None, None, None, 128)   73856     
_________________________________________________________________
block2_conv2 (Conv2D)        (None, None, None, 128)   147584    
_________________________________________________________________
block2_pool (MaxPooling2D)   (None, None, None, 128)   0         
_________________________________________________________________
block3_conv1 (Conv2D)        (None, None, None, 256)   295168    
_________________________________________________________________
block3_conv2 (Conv2D)        (None, None, None, 256)   590080    
_________________________________________________________________
block3_conv3 (Conv2D)        (None, None, None, 256)   590080    
_________________________________________________________________
block3_pool (MaxPooling2D)   (None, None, None, 256)   0         
_________________________________________________________________
block4_conv1 (Conv2D)        (None, None, None, 512)   1180160   
_________________________________________________________________
block4_conv2 (Conv2D)        (None, None, None, 512)   2359808   
_________________________________________________________________
block4_conv3 (Conv2D)        (None, None, None, 512)   2359808   
_________________________________________________________________
block4_pool (MaxPooling2D)   (None, None, None, 512)   0         
_________________________________________________________________
block5_conv1 (Conv2D)        (None, None, None, 512)   2359808   
_________________________________________________________________
block5_conv2 (Conv2D)        (None, None, None, 512)   2359808   
_________________________________________________________________
block5_conv3 (Conv2D)        (None, None, None, 512)   2359808   
_________________________________________________________________
block5_pool (MaxPooling2D)   (None, None, None, 512)   0         
=================================================================
Total params: 14,714,688
Trainable params: 14,714,688
Non-trainable params: 0
_________________________________________________________________
None
'''

# 004_778c259389f6f5e9.txt, block 45 at line 1307, under "层「节点」的概念"
OUTPUTS["s004_45_multiple_nodes_error"] = r'''>> AttributeError: Layer lstm_1 has multiple inbound nodes,
hence the notion of "layer output" is ill-defined.
Use `get_output_at(node_index)` instead.
'''

# ======================================================================
# Skipped blocks: (reason, text)
# ======================================================================
# 000_9141afc4b57de93f.txt, block 1 at line 3, under "一、Models_Format；"
# Skipped: prose in a code fence: what HDF5/H5/JSON/YAML files hold, no code
SKIPPED["s000_01_formats_prose"] = ('prose in a code fence: what HDF5/H5/JSON/YAML files hold, no code', r'''HDF5格式文件保存的是 ： Model weights
H5 格式文件保存的是： Model structure 和 Model weights
JSON 和 YAML 格式文件保存的是： Model stucture

model.to_json() 以 JSON 字符串的形式返回模型的表示。请注意，该表示不包括权重，仅包含结构。
model.to_yaml() 以 YAML 字符串的形式返回模型的表示。请注意，该表示不包括权重，只包含结构。
''')

# 000_9141afc4b57de93f.txt, block 2 at line 14, under "二、Channels_last，Channels_first；"
# Skipped: prose in a code fence: channels_last vs channels_first, no code
SKIPPED["s000_02_channels_prose"] = ('prose in a code fence: channels_last vs channels_first, no code', r'''channels_last 对应着尺寸为 (batch, ..., channels) 的输入，而 channels_first 对应着尺寸为(batch, channels, ...) 的输入。
channels_last (默认) 或 channels_first 之一，表示输入中维度的顺序。
channels_last 对应输入尺寸为 (batch, height, width, channels) ， channels_first 对应输入尺寸为(batch, channels, height, width) 。

如果 data_format='channels_first'， 输入 4D 张量，尺寸为 (samples, channels, rows, cols) 。
如果 data_format='channels_last'， 输入 4D 张量，尺寸为 (samples, rows, cols, channels) 。

通道最后（Channels Last）。 图像数据以三维阵列表示，其中最后一个通道代表颜色通道，例如[B,W,H,C]。
通道第一（Channels First）。 图像数据以三维阵列表示，其中第一通道代表颜色通道，例如彩色通道。 [B,C,W,H]。
''')

# 000_9141afc4b57de93f.txt, block 3 at line 28, under "三、Save/Load--Model；"
# Skipped: prose in a code fence: save_weights/load_weights described in words, no statement
SKIPPED["s000_03_save_load_prose"] = ('prose in a code fence: save_weights/load_weights described in words, no statement', r'''model.save_weights(filepath) 将模型权重存储为 HDF5 文件。
model.load_weights(filepath, by_name=False) : 从 HDF5 文件（由 save_weights 创建）中加载权重。默认情况下，
模型的结构应该是不变的。 如果想将权重载入不同的模型（部分层相同）,设置by_name=True 来载入那些名字相同的层的权重。
''')

# 001_8d7c5cdb52bbe725.txt, block 13 at line 326, under "另一种声音"
# Skipped: TensorFlow-only: `Input(tensor=...)` on a tf.data/TFRecord tensor and `compile(target_tensors=...)`; needs TensorFlow tensors, `create_dataset` and `soft_acc` the note never shows
SKIPPED["s001_13_tfrecord_input_tensor"] = ('TensorFlow-only: `Input(tensor=...)` on a tf.data/TFRecord tensor and `compile(target_tensors=...)`; needs TensorFlow tensors, `create_dataset` and `soft_acc` the note never shows', r'''import tensorflow as tf
from tensorflow.python import keras as keras

STEPS_PER_EPOCH= SUM_OF_ALL_DATASAMPLES / BATCHSIZE
#Get your datatensors
image, label = create_dataset(filenames_train)

#Combine it with keras
model_input = keras.layers.Input(tensor=image)

#Build your network
model_output = keras.layers.Flatten(input_shape=(-1, 255, 255, 1))(model_input)
model_output = keras.layers.Dense(1000, activation='relu')(model_output)

#Create your model
train_model = keras.models.Model(inputs=model_input, outputs=model_output)

#Compile your model
train_model.compile(optimizer=keras.optimizers.RMSprop(lr=0.0001),
                    loss='mean_squared_error',
                    metrics=[soft_acc],
                    target_tensors=[label])

#Train the model
train_model.fit(epochs=EPOCHS,
                steps_per_epoch=STEPS_PER_EPOC)

#More Kerasstuff here
''')

# 001_8d7c5cdb52bbe725.txt, block 28 at line 610, under "`flow`"
# Skipped: pseudo-code of what flow() does, not Keras: `yield` outside a function (SyntaxError) and undefined ImagePro/saveToFile
SKIPPED["s001_28_flow_pseudocode"] = ('pseudo-code of what flow() does, not Keras: `yield` outside a function (SyntaxError) and undefined ImagePro/saveToFile', r'''if shuffle==True:
    shuffle(x,y)#打乱
while(True):
    for i in range(0,len(x),batch_size):
        x_batch=x[i:i+batch_size]
        y_batch=y[i:i+batch_size]
        ImagePro(x_batch)#数据增强
        saveToFile()#保存提升后的图片
        yield (x_batch,y_batch)
''')

# 004_778c259389f6f5e9.txt, block 25 at line 649, under "解析"
# Skipped: not Keras: a Python 2 generator demo (`print n`, `m.next()`), a SyntaxError on Python 3
SKIPPED["s004_25_fibonacci_py2"] = ('not Keras: a Python 2 generator demo (`print n`, `m.next()`), a SyntaxError on Python 3', r'''def fibonacci(max_n):
    a, b = 1, 1
    while a <= max_n:

        yield a
        a, b = b, a+b 

if __name__ == '__main__':

    n = []
    for i in fibonacci(15):
        n.append(i)

    print n 

    m = fibonacci(13)
    print m

    print m.next()
    print m.next()
    print m.next()

## output:
[1, 1, 2, 3, 5, 8, 13]
<generator object fibonacci at 0x7f751b544820>
1
1
2
''')

# 004_778c259389f6f5e9.txt, block 24 at line 629, under "Example 2:"
# Skipped: the note itself does not parse (IndentationError: `yield` over-indented); Keras cannot run it either
SKIPPED["s004_24_generator_from_file"] = ('the note itself does not parse (IndentationError: `yield` over-indented); Keras cannot run it either', r'''def generate_arrays_from_file(path):
    while True:
        with open(path) as f:
            for line in f:
                # 从文件中的每一行生成输入数据和标签的 numpy 数组
                x1, x2, y = process_line(line)
                    yield ({'input_1': x1, 'input_2': x2}, {'output': y})

model.fit_generator(generate_arrays_from_file('/my_file.txt'),
                    steps_per_epoch=10000, epochs=10)
''')

# 004_778c259389f6f5e9.txt, block 58 at line 1700, under "fit_generator"
# Skipped: the note itself does not parse (IndentationError: the `for` body is not indented); Keras cannot run it either
SKIPPED["s004_58_generator_from_file"] = ('the note itself does not parse (IndentationError: the `for` body is not indented); Keras cannot run it either', r'''def generate_arrays_from_file(path):
    while True:
        with open(path) as f:
            for line in f:
            # 从文件中的每一行生成输入数据和标签的 numpy 数组，
            x1, x2, y = process_line(line)
            yield ({'input_1': x1, 'input_2': x2}, {'output': y})
        f.close()

model.fit_generator(generate_arrays_from_file('/my_file.txt'),
                    steps_per_epoch=10000, epochs=10)
''')
