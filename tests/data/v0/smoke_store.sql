PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE studies (
	study_id INTEGER NOT NULL, 
	study_name VARCHAR(512) NOT NULL, 
	PRIMARY KEY (study_id)
);
INSERT INTO studies VALUES(1,'smoke/adding');
INSERT INTO studies VALUES(2,'smoke/copy_memory');
CREATE TABLE version_info (
	version_info_id INTEGER NOT NULL, 
	schema_version INTEGER, 
	library_version VARCHAR(256), 
	PRIMARY KEY (version_info_id), 
	CHECK (version_info_id=1)
);
INSERT INTO version_info VALUES(1,12,'5.0.0');
CREATE TABLE study_directions (
	study_direction_id INTEGER NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	study_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	PRIMARY KEY (study_direction_id), 
	UNIQUE (study_id, objective), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO study_directions VALUES(1,'MINIMIZE',1,0);
INSERT INTO study_directions VALUES(2,'MAXIMIZE',2,0);
CREATE TABLE study_user_attributes (
	study_user_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_user_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE study_system_attributes (
	study_system_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_system_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE trials (
	trial_id INTEGER NOT NULL, 
	number INTEGER, 
	study_id INTEGER, 
	state VARCHAR(8) NOT NULL, 
	datetime_start DATETIME, 
	datetime_complete DATETIME, 
	PRIMARY KEY (trial_id), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO trials VALUES(1,0,1,'COMPLETE','2026-11-24 08:55:08.637464','2026-11-24 08:55:10.032649');
INSERT INTO trials VALUES(2,1,1,'COMPLETE','2026-11-24 08:55:10.042249','2026-11-24 08:55:11.026154');
INSERT INTO trials VALUES(3,2,1,'COMPLETE','2026-11-24 08:55:11.034069','2026-11-24 08:55:12.497935');
INSERT INTO trials VALUES(4,3,1,'COMPLETE','2026-11-24 08:55:12.506493','2026-11-24 08:55:13.747092');
INSERT INTO trials VALUES(5,4,1,'COMPLETE','2026-11-24 08:55:13.755064','2026-11-24 08:55:15.240155');
INSERT INTO trials VALUES(6,5,1,'COMPLETE','2026-11-24 08:55:15.248473','2026-11-24 08:55:16.617086');
INSERT INTO trials VALUES(7,0,2,'COMPLETE','2026-11-24 08:55:16.626303','2026-11-24 08:55:17.909323');
INSERT INTO trials VALUES(8,1,2,'COMPLETE','2026-11-24 08:55:17.917354','2026-11-24 08:55:19.141263');
INSERT INTO trials VALUES(9,2,2,'COMPLETE','2026-11-24 08:55:19.154234','2026-11-24 08:55:20.965312');
INSERT INTO trials VALUES(10,3,2,'COMPLETE','2026-11-24 08:55:20.976006','2026-11-24 08:55:22.587806');
INSERT INTO trials VALUES(11,4,2,'COMPLETE','2026-11-24 08:55:22.596128','2026-11-24 08:55:24.156553');
INSERT INTO trials VALUES(12,5,2,'COMPLETE','2026-11-24 08:55:24.163878','2026-11-24 08:55:25.706435');
CREATE TABLE trial_user_attributes (
	trial_user_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_user_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO trial_user_attributes VALUES(1,1,'run_key','"c79f59b7f669"');
INSERT INTO trial_user_attributes VALUES(2,1,'spec','{"grid": "smoke", "task": "adding", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "adding", "variant": "lstm", "seed": 0, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.002, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(3,2,'run_key','"817959b18faf"');
INSERT INTO trial_user_attributes VALUES(4,2,'spec','{"grid": "smoke", "task": "adding", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "adding", "variant": "lstm", "seed": 1, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.002, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(5,3,'run_key','"40694b0bfbef"');
INSERT INTO trial_user_attributes VALUES(6,3,'spec','{"grid": "smoke", "task": "adding", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "adding", "variant": "lstm", "seed": 2, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.002, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(7,4,'run_key','"9ae901a8e7a3"');
INSERT INTO trial_user_attributes VALUES(8,4,'spec','{"grid": "smoke", "task": "adding", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "adding", "variant": "cifg", "seed": 0, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.002, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(9,5,'run_key','"1eabd2187212"');
INSERT INTO trial_user_attributes VALUES(10,5,'spec','{"grid": "smoke", "task": "adding", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "adding", "variant": "cifg", "seed": 1, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.002, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(11,6,'run_key','"e5ca36adf632"');
INSERT INTO trial_user_attributes VALUES(12,6,'spec','{"grid": "smoke", "task": "adding", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "adding", "variant": "cifg", "seed": 2, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.002, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(13,7,'run_key','"6a3d69eeadf8"');
INSERT INTO trial_user_attributes VALUES(14,7,'spec','{"grid": "smoke", "task": "copy_memory", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "copy_memory", "variant": "lstm", "seed": 0, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.0005, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(15,8,'run_key','"60530176bc76"');
INSERT INTO trial_user_attributes VALUES(16,8,'spec','{"grid": "smoke", "task": "copy_memory", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "copy_memory", "variant": "lstm", "seed": 1, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.0005, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(17,9,'run_key','"ebfbc7015d44"');
INSERT INTO trial_user_attributes VALUES(18,9,'spec','{"grid": "smoke", "task": "copy_memory", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "copy_memory", "variant": "lstm", "seed": 2, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.0005, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(19,10,'run_key','"726b94bb0df5"');
INSERT INTO trial_user_attributes VALUES(20,10,'spec','{"grid": "smoke", "task": "copy_memory", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "copy_memory", "variant": "cifg", "seed": 0, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.0005, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(21,11,'run_key','"cd80fb4c1a91"');
INSERT INTO trial_user_attributes VALUES(22,11,'spec','{"grid": "smoke", "task": "copy_memory", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "copy_memory", "variant": "cifg", "seed": 1, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.0005, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(23,12,'run_key','"e8d8f14abf58"');
INSERT INTO trial_user_attributes VALUES(24,12,'spec','{"grid": "smoke", "task": "copy_memory", "size": "smoke", "params": {"T": 10, "n_train": 512, "n_val": 128, "n_test": 128}, "label": "copy_memory", "variant": "cifg", "seed": 2, "model": {"units": 16, "num_layers": 1, "dropout": 0.0, "embedding_dim": 64, "implementation": "auto", "recurrent_dropout": 0.0}, "train": {"optimizer": "adam", "learning_rate": 0.0005, "clipnorm": 1.0, "batch_size": 64, "epochs": 2, "patience": 3, "mixed_precision": false}}');
INSERT INTO trial_user_attributes VALUES(25,1,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(26,1,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(27,1,'parameters','1233');
INSERT INTO trial_user_attributes VALUES(28,1,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(29,1,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(30,1,'train_seconds','1.1070770579999873');
INSERT INTO trial_user_attributes VALUES(31,1,'build_seconds','0.06267731100001583');
INSERT INTO trial_user_attributes VALUES(32,1,'data_seconds','0.0006788029999995615');
INSERT INTO trial_user_attributes VALUES(33,1,'seconds_per_epoch','0.1839735470000221');
INSERT INTO trial_user_attributes VALUES(34,1,'first_epoch_seconds','0.8109466539999914');
INSERT INTO trial_user_attributes VALUES(35,1,'steps_per_second','16.081691761729324');
INSERT INTO trial_user_attributes VALUES(36,1,'history','{"loss": [0.6896286010742188, 0.3013511598110199], "val_loss": [0.40500590205192566, 0.13660846650600433]}');
INSERT INTO trial_user_attributes VALUES(37,1,'baseline','{"mse": 0.1470649093389511, "mse_closed_form": 0.16666666666666666}');
INSERT INTO trial_user_attributes VALUES(38,1,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(39,1,'val','{"mse": 0.13660848140716553}');
INSERT INTO trial_user_attributes VALUES(40,1,'test','{"mse": 0.1315208077430725}');
INSERT INTO trial_user_attributes VALUES(41,1,'eval_seconds','0.15942941999998084');
INSERT INTO trial_user_attributes VALUES(42,1,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(43,1,'run_dir','"results/smoke/adding/lstm/seed0-c79f59b7f669"');
INSERT INTO trial_user_attributes VALUES(44,1,'wall_seconds','1.3525912761688232');
INSERT INTO trial_user_attributes VALUES(45,2,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(46,2,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(47,2,'parameters','1233');
INSERT INTO trial_user_attributes VALUES(48,2,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(49,2,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(50,2,'train_seconds','0.7674495290000038');
INSERT INTO trial_user_attributes VALUES(51,2,'build_seconds','0.021974572000004855');
INSERT INTO trial_user_attributes VALUES(52,2,'data_seconds','0.0009927020000191078');
INSERT INTO trial_user_attributes VALUES(53,2,'seconds_per_epoch','0.0670361850000063');
INSERT INTO trial_user_attributes VALUES(54,2,'first_epoch_seconds','0.6736808720000056');
INSERT INTO trial_user_attributes VALUES(55,2,'steps_per_second','21.60069063996152');
INSERT INTO trial_user_attributes VALUES(56,2,'history','{"loss": [0.6420978307723999, 0.3210899233818054], "val_loss": [0.3703916668891907, 0.16757968068122864]}');
INSERT INTO trial_user_attributes VALUES(57,2,'baseline','{"mse": 0.15551067888736725, "mse_closed_form": 0.16666666666666666}');
INSERT INTO trial_user_attributes VALUES(58,2,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(59,2,'val','{"mse": 0.16757968068122864}');
INSERT INTO trial_user_attributes VALUES(60,2,'test','{"mse": 0.16335122287273407}');
INSERT INTO trial_user_attributes VALUES(61,2,'eval_seconds','0.13665206600001056');
INSERT INTO trial_user_attributes VALUES(62,2,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(63,2,'run_dir','"results/smoke/adding/lstm/seed1-817959b18faf"');
INSERT INTO trial_user_attributes VALUES(64,2,'wall_seconds','0.9501349925994873');
INSERT INTO trial_user_attributes VALUES(65,3,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(66,3,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(67,3,'parameters','1233');
INSERT INTO trial_user_attributes VALUES(68,3,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(69,3,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(70,3,'train_seconds','1.1618065380000075');
INSERT INTO trial_user_attributes VALUES(71,3,'build_seconds','0.02126964999999359');
INSERT INTO trial_user_attributes VALUES(72,3,'data_seconds','0.0007151969999767971');
INSERT INTO trial_user_attributes VALUES(73,3,'seconds_per_epoch','0.19790431499998817');
INSERT INTO trial_user_attributes VALUES(74,3,'first_epoch_seconds','0.9401910099999782');
INSERT INTO trial_user_attributes VALUES(75,3,'steps_per_second','14.05857633234762');
INSERT INTO trial_user_attributes VALUES(76,3,'history','{"loss": [0.9840097427368164, 0.6876844763755798], "val_loss": [0.8597657680511475, 0.5538517236709595]}');
INSERT INTO trial_user_attributes VALUES(77,3,'baseline','{"mse": 0.16603617370128632, "mse_closed_form": 0.16666666666666666}');
INSERT INTO trial_user_attributes VALUES(78,3,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(79,3,'val','{"mse": 0.5538516640663147}');
INSERT INTO trial_user_attributes VALUES(80,3,'test','{"mse": 0.4949343800544739}');
INSERT INTO trial_user_attributes VALUES(81,3,'eval_seconds','0.21366249000001858');
INSERT INTO trial_user_attributes VALUES(82,3,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(83,3,'run_dir','"results/smoke/adding/lstm/seed2-40694b0bfbef"');
INSERT INTO trial_user_attributes VALUES(84,3,'wall_seconds','1.421642780303955');
INSERT INTO trial_user_attributes VALUES(85,4,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(86,4,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(87,4,'parameters','961');
INSERT INTO trial_user_attributes VALUES(88,4,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(89,4,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(90,4,'train_seconds','0.9408288159999927');
INSERT INTO trial_user_attributes VALUES(91,4,'build_seconds','0.02565131400001519');
INSERT INTO trial_user_attributes VALUES(92,4,'data_seconds','0.0007944559999941703');
INSERT INTO trial_user_attributes VALUES(93,4,'seconds_per_epoch','0.06390370100001519');
INSERT INTO trial_user_attributes VALUES(94,4,'first_epoch_seconds','0.856479754999981');
INSERT INTO trial_user_attributes VALUES(95,4,'steps_per_second','17.384058672171598');
INSERT INTO trial_user_attributes VALUES(96,4,'history','{"loss": [1.3332436084747314, 1.0722160339355469], "val_loss": [1.111525535583496, 0.8755308985710144]}');
INSERT INTO trial_user_attributes VALUES(97,4,'baseline','{"mse": 0.1470649093389511, "mse_closed_form": 0.16666666666666666}');
INSERT INTO trial_user_attributes VALUES(98,4,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(99,4,'val','{"mse": 0.8755309581756592}');
INSERT INTO trial_user_attributes VALUES(100,4,'test','{"mse": 0.8791200518608093}');
INSERT INTO trial_user_attributes VALUES(101,4,'eval_seconds','0.21545426399998746');
INSERT INTO trial_user_attributes VALUES(102,4,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(103,4,'run_dir','"results/smoke/adding/cifg/seed0-9ae901a8e7a3"');
INSERT INTO trial_user_attributes VALUES(104,4,'wall_seconds','1.2069649696350098');
INSERT INTO trial_user_attributes VALUES(105,5,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(106,5,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(107,5,'parameters','961');
INSERT INTO trial_user_attributes VALUES(108,5,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(109,5,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(110,5,'train_seconds','1.1822148830000003');
INSERT INTO trial_user_attributes VALUES(111,5,'build_seconds','0.021812420000003385');
INSERT INTO trial_user_attributes VALUES(112,5,'data_seconds','0.0015190670000038153');
INSERT INTO trial_user_attributes VALUES(113,5,'seconds_per_epoch','0.19463133499999685');
INSERT INTO trial_user_attributes VALUES(114,5,'first_epoch_seconds','0.8860911450000231');
INSERT INTO trial_user_attributes VALUES(115,5,'steps_per_second','14.804910877767348');
INSERT INTO trial_user_attributes VALUES(116,5,'history','{"loss": [1.1764161586761475, 0.9620095491409302], "val_loss": [0.9067453145980835, 0.7189421057701111]}');
INSERT INTO trial_user_attributes VALUES(117,5,'baseline','{"mse": 0.15551067888736725, "mse_closed_form": 0.16666666666666666}');
INSERT INTO trial_user_attributes VALUES(118,5,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(119,5,'val','{"mse": 0.7189421057701111}');
INSERT INTO trial_user_attributes VALUES(120,5,'test','{"mse": 0.7795765399932861}');
INSERT INTO trial_user_attributes VALUES(121,5,'eval_seconds','0.22336675100001457');
INSERT INTO trial_user_attributes VALUES(122,5,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(123,5,'run_dir','"results/smoke/adding/cifg/seed1-1eabd2187212"');
INSERT INTO trial_user_attributes VALUES(124,5,'wall_seconds','1.4522600173950195');
INSERT INTO trial_user_attributes VALUES(125,6,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(126,6,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(127,6,'parameters','961');
INSERT INTO trial_user_attributes VALUES(128,6,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(129,6,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(130,6,'train_seconds','1.0550361190000217');
INSERT INTO trial_user_attributes VALUES(131,6,'build_seconds','0.026290020999994113');
INSERT INTO trial_user_attributes VALUES(132,6,'data_seconds','0.001381480999981477');
INSERT INTO trial_user_attributes VALUES(133,6,'seconds_per_epoch','0.0800161309999794');
INSERT INTO trial_user_attributes VALUES(134,6,'first_epoch_seconds','0.9480316439999967');
INSERT INTO trial_user_attributes VALUES(135,6,'steps_per_second','15.563479041623694');
INSERT INTO trial_user_attributes VALUES(136,6,'history','{"loss": [1.2264255285263062, 1.0280132293701172], "val_loss": [1.1532914638519287, 0.9625917673110962]}');
INSERT INTO trial_user_attributes VALUES(137,6,'baseline','{"mse": 0.16603617370128632, "mse_closed_form": 0.16666666666666666}');
INSERT INTO trial_user_attributes VALUES(138,6,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(139,6,'val','{"mse": 0.9625917673110962}');
INSERT INTO trial_user_attributes VALUES(140,6,'test','{"mse": 0.8727572560310364}');
INSERT INTO trial_user_attributes VALUES(141,6,'eval_seconds','0.22543660499999874');
INSERT INTO trial_user_attributes VALUES(142,6,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(143,6,'run_dir','"results/smoke/adding/cifg/seed2-e5ca36adf632"');
INSERT INTO trial_user_attributes VALUES(144,6,'wall_seconds','1.3340542316436768');
INSERT INTO trial_user_attributes VALUES(145,7,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(146,7,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(147,7,'parameters','1898');
INSERT INTO trial_user_attributes VALUES(148,7,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(149,7,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(150,7,'train_seconds','0.9815026380000234');
INSERT INTO trial_user_attributes VALUES(151,7,'build_seconds','0.0268446090000225');
INSERT INTO trial_user_attributes VALUES(152,7,'data_seconds','0.0013835350000022117');
INSERT INTO trial_user_attributes VALUES(153,7,'seconds_per_epoch','0.12387823899999262');
INSERT INTO trial_user_attributes VALUES(154,7,'first_epoch_seconds','0.808793842');
INSERT INTO trial_user_attributes VALUES(155,7,'steps_per_second','17.15501120484395');
INSERT INTO trial_user_attributes VALUES(156,7,'history','{"loss": [2.2509868144989014, 2.2176051139831543], "val_loss": [2.2335050106048584, 2.2000575065612793]}');
INSERT INTO trial_user_attributes VALUES(157,7,'baseline','{"recall_accuracy": 0.125, "cross_entropy": 0.6931471805599453}');
INSERT INTO trial_user_attributes VALUES(158,7,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(159,7,'val','{"recall_accuracy": 0.1265625, "cross_entropy": 2.2000575065612793}');
INSERT INTO trial_user_attributes VALUES(160,7,'test','{"recall_accuracy": 0.13828125, "cross_entropy": 2.198216199874878}');
INSERT INTO trial_user_attributes VALUES(161,7,'eval_seconds','0.2140760369999839');
INSERT INTO trial_user_attributes VALUES(162,7,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(163,7,'run_dir','"results/smoke/copy_memory/lstm/seed0-6a3d69eeadf8"');
INSERT INTO trial_user_attributes VALUES(164,7,'wall_seconds','1.2519006729125977');
INSERT INTO trial_user_attributes VALUES(165,8,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(166,8,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(167,8,'parameters','1898');
INSERT INTO trial_user_attributes VALUES(168,8,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(169,8,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(170,8,'train_seconds','0.9508903759999896');
INSERT INTO trial_user_attributes VALUES(171,8,'build_seconds','0.029183539999991126');
INSERT INTO trial_user_attributes VALUES(172,8,'data_seconds','0.0025079929999947126');
INSERT INTO trial_user_attributes VALUES(173,8,'seconds_per_epoch','0.12759712400000467');
INSERT INTO trial_user_attributes VALUES(174,8,'first_epoch_seconds','0.7983786940000073');
INSERT INTO trial_user_attributes VALUES(175,8,'steps_per_second','17.27906894432506');
INSERT INTO trial_user_attributes VALUES(176,8,'history','{"loss": [2.284480571746826, 2.264029026031494], "val_loss": [2.272559642791748, 2.2526469230651855]}');
INSERT INTO trial_user_attributes VALUES(177,8,'baseline','{"recall_accuracy": 0.125, "cross_entropy": 0.6931471805599453}');
INSERT INTO trial_user_attributes VALUES(178,8,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(179,8,'val','{"recall_accuracy": 0.13515625, "cross_entropy": 2.2526469230651855}');
INSERT INTO trial_user_attributes VALUES(180,8,'test','{"recall_accuracy": 0.11796875, "cross_entropy": 2.2541556358337402}');
INSERT INTO trial_user_attributes VALUES(181,8,'eval_seconds','0.16609667399998784');
INSERT INTO trial_user_attributes VALUES(182,8,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(183,8,'run_dir','"results/smoke/copy_memory/lstm/seed1-60530176bc76"');
INSERT INTO trial_user_attributes VALUES(184,8,'wall_seconds','1.1685845851898193');
INSERT INTO trial_user_attributes VALUES(185,9,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(186,9,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(187,9,'parameters','1898');
INSERT INTO trial_user_attributes VALUES(188,9,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(189,9,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(190,9,'train_seconds','1.4650443179999968');
INSERT INTO trial_user_attributes VALUES(191,9,'build_seconds','0.0476775570000143');
INSERT INTO trial_user_attributes VALUES(192,9,'data_seconds','0.0019284679999884702');
INSERT INTO trial_user_attributes VALUES(193,9,'seconds_per_epoch','0.09647644200001082');
INSERT INTO trial_user_attributes VALUES(194,9,'first_epoch_seconds','1.2881914170000073');
INSERT INTO trial_user_attributes VALUES(195,9,'steps_per_second','11.555117637781315');
INSERT INTO trial_user_attributes VALUES(196,9,'history','{"loss": [2.2780470848083496, 2.256669044494629], "val_loss": [2.267765522003174, 2.246246814727783]}');
INSERT INTO trial_user_attributes VALUES(197,9,'baseline','{"recall_accuracy": 0.125, "cross_entropy": 0.6931471805599453}');
INSERT INTO trial_user_attributes VALUES(198,9,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(199,9,'val','{"recall_accuracy": 0.12109375, "cross_entropy": 2.246246814727783}');
INSERT INTO trial_user_attributes VALUES(200,9,'test','{"recall_accuracy": 0.12890625, "cross_entropy": 2.241417407989502}');
INSERT INTO trial_user_attributes VALUES(201,9,'eval_seconds','0.2274312870000017');
INSERT INTO trial_user_attributes VALUES(202,9,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(203,9,'run_dir','"results/smoke/copy_memory/lstm/seed2-ebfbc7015d44"');
INSERT INTO trial_user_attributes VALUES(204,9,'wall_seconds','1.7767367362976074');
INSERT INTO trial_user_attributes VALUES(205,10,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(206,10,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(207,10,'parameters','1498');
INSERT INTO trial_user_attributes VALUES(208,10,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(209,10,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(210,10,'train_seconds','1.2317906870000002');
INSERT INTO trial_user_attributes VALUES(211,10,'build_seconds','0.029783815000001823');
INSERT INTO trial_user_attributes VALUES(212,10,'data_seconds','0.0012970450000011624');
INSERT INTO trial_user_attributes VALUES(213,10,'seconds_per_epoch','0.12958881699998415');
INSERT INTO trial_user_attributes VALUES(214,10,'first_epoch_seconds','1.055283352999993');
INSERT INTO trial_user_attributes VALUES(215,10,'steps_per_second','13.503566380498505');
INSERT INTO trial_user_attributes VALUES(216,10,'history','{"loss": [2.2803163528442383, 2.26301646232605], "val_loss": [2.2708370685577393, 2.2536654472351074]}');
INSERT INTO trial_user_attributes VALUES(217,10,'baseline','{"recall_accuracy": 0.125, "cross_entropy": 0.6931471805599453}');
INSERT INTO trial_user_attributes VALUES(218,10,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(219,10,'val','{"recall_accuracy": 0.1359375, "cross_entropy": 2.2536652088165283}');
INSERT INTO trial_user_attributes VALUES(220,10,'test','{"recall_accuracy": 0.13515625, "cross_entropy": 2.253500461578369}');
INSERT INTO trial_user_attributes VALUES(221,10,'eval_seconds','0.2640802970000209');
INSERT INTO trial_user_attributes VALUES(222,10,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(223,10,'run_dir','"results/smoke/copy_memory/cifg/seed0-726b94bb0df5"');
INSERT INTO trial_user_attributes VALUES(224,10,'wall_seconds','1.5634496212005615');
INSERT INTO trial_user_attributes VALUES(225,11,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(226,11,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(227,11,'parameters','1498');
INSERT INTO trial_user_attributes VALUES(228,11,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(229,11,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(230,11,'train_seconds','1.2367910499999937');
INSERT INTO trial_user_attributes VALUES(231,11,'build_seconds','0.027437613999978794');
INSERT INTO trial_user_attributes VALUES(232,11,'data_seconds','0.002998513999983743');
INSERT INTO trial_user_attributes VALUES(233,11,'seconds_per_epoch','0.19373075700002573');
INSERT INTO trial_user_attributes VALUES(234,11,'first_epoch_seconds','0.9625297819999901');
INSERT INTO trial_user_attributes VALUES(235,11,'steps_per_second','13.83771170971336');
INSERT INTO trial_user_attributes VALUES(236,11,'history','{"loss": [2.280437469482422, 2.260800838470459], "val_loss": [2.2726950645446777, 2.252950668334961]}');
INSERT INTO trial_user_attributes VALUES(237,11,'baseline','{"recall_accuracy": 0.125, "cross_entropy": 0.6931471805599453}');
INSERT INTO trial_user_attributes VALUES(238,11,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(239,11,'val','{"recall_accuracy": 0.0, "cross_entropy": 2.252950429916382}');
INSERT INTO trial_user_attributes VALUES(240,11,'test','{"recall_accuracy": 0.0, "cross_entropy": 2.24902081489563}');
INSERT INTO trial_user_attributes VALUES(241,11,'eval_seconds','0.2193499020000047');
INSERT INTO trial_user_attributes VALUES(242,11,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(243,11,'run_dir','"results/smoke/copy_memory/cifg/seed1-cd80fb4c1a91"');
INSERT INTO trial_user_attributes VALUES(244,11,'wall_seconds','1.516803503036499');
INSERT INTO trial_user_attributes VALUES(245,12,'worker','{"host": "example-host", "pid": 3627}');
INSERT INTO trial_user_attributes VALUES(246,12,'status','"finished"');
INSERT INTO trial_user_attributes VALUES(247,12,'parameters','1498');
INSERT INTO trial_user_attributes VALUES(248,12,'epochs_run','2');
INSERT INTO trial_user_attributes VALUES(249,12,'best_epoch','2');
INSERT INTO trial_user_attributes VALUES(250,12,'train_seconds','1.2085035220000009');
INSERT INTO trial_user_attributes VALUES(251,12,'build_seconds','0.02548308800001564');
INSERT INTO trial_user_attributes VALUES(252,12,'data_seconds','0.0033767280000063238');
INSERT INTO trial_user_attributes VALUES(253,12,'seconds_per_epoch','0.13560514299999227');
INSERT INTO trial_user_attributes VALUES(254,12,'first_epoch_seconds','1.0345604839999964');
INSERT INTO trial_user_attributes VALUES(255,12,'steps_per_second','13.673278064935122');
INSERT INTO trial_user_attributes VALUES(256,12,'history','{"loss": [2.2836804389953613, 2.2697885036468506], "val_loss": [2.277122974395752, 2.2632598876953125]}');
INSERT INTO trial_user_attributes VALUES(257,12,'baseline','{"recall_accuracy": 0.125, "cross_entropy": 0.6931471805599453}');
INSERT INTO trial_user_attributes VALUES(258,12,'train_examples','512');
INSERT INTO trial_user_attributes VALUES(259,12,'val','{"recall_accuracy": 0.1265625, "cross_entropy": 2.2632598876953125}');
INSERT INTO trial_user_attributes VALUES(260,12,'test','{"recall_accuracy": 0.1203125, "cross_entropy": 2.262317419052124}');
INSERT INTO trial_user_attributes VALUES(261,12,'eval_seconds','0.22595772799999736');
INSERT INTO trial_user_attributes VALUES(262,12,'environment','{"backend": "tensorflow", "keras": "3.15.1", "device": "CPU", "python": "3.11.7", "host": "example-host", "tensorflow": "2.21.0", "jax": "0.10.2", "git_commit": "4ac2a34"}');
INSERT INTO trial_user_attributes VALUES(263,12,'run_dir','"results/smoke/copy_memory/cifg/seed2-e8d8f14abf58"');
INSERT INTO trial_user_attributes VALUES(264,12,'wall_seconds','1.497995138168335');
CREATE TABLE trial_system_attributes (
	trial_system_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_system_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO trial_system_attributes VALUES(1,1,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(2,2,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(3,3,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(4,4,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(5,5,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(6,6,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(7,7,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(8,8,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(9,9,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(10,10,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(11,11,'fixed_params','{}');
INSERT INTO trial_system_attributes VALUES(12,12,'fixed_params','{}');
CREATE TABLE trial_params (
	param_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	param_name VARCHAR(512), 
	param_value FLOAT, 
	distribution_json TEXT, 
	PRIMARY KEY (param_id), 
	UNIQUE (trial_id, param_name), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_values (
	trial_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	value FLOAT, 
	value_type VARCHAR(7) NOT NULL, 
	PRIMARY KEY (trial_value_id), 
	UNIQUE (trial_id, objective), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO trial_values VALUES(1,1,0,0.13152080774307250976,'FINITE');
INSERT INTO trial_values VALUES(2,2,0,0.16335122287273406982,'FINITE');
INSERT INTO trial_values VALUES(3,3,0,0.49493438005447387695,'FINITE');
INSERT INTO trial_values VALUES(4,4,0,0.87912005186080932617,'FINITE');
INSERT INTO trial_values VALUES(5,5,0,0.77957653999328613281,'FINITE');
INSERT INTO trial_values VALUES(6,6,0,0.87275725603103637695,'FINITE');
INSERT INTO trial_values VALUES(7,7,0,0.13828124999999999444,'FINITE');
INSERT INTO trial_values VALUES(8,8,0,0.11796874999999999722,'FINITE');
INSERT INTO trial_values VALUES(9,9,0,0.12890625,'FINITE');
INSERT INTO trial_values VALUES(10,10,0,0.13515625000000000555,'FINITE');
INSERT INTO trial_values VALUES(11,11,0,0.0,'FINITE');
INSERT INTO trial_values VALUES(12,12,0,0.12031250000000000277,'FINITE');
CREATE TABLE trial_intermediate_values (
	trial_intermediate_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	step INTEGER NOT NULL, 
	intermediate_value FLOAT, 
	intermediate_value_type VARCHAR(7) NOT NULL, 
	PRIMARY KEY (trial_intermediate_value_id), 
	UNIQUE (trial_id, step), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_heartbeats (
	trial_heartbeat_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	heartbeat DATETIME NOT NULL, 
	PRIMARY KEY (trial_heartbeat_id), 
	UNIQUE (trial_id), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO trial_heartbeats VALUES(1,1,'2026-11-24 08:55:08');
INSERT INTO trial_heartbeats VALUES(2,2,'2026-11-24 08:55:10');
INSERT INTO trial_heartbeats VALUES(3,3,'2026-11-24 08:55:11');
INSERT INTO trial_heartbeats VALUES(4,4,'2026-11-24 08:55:12');
INSERT INTO trial_heartbeats VALUES(5,5,'2026-11-24 08:55:13');
INSERT INTO trial_heartbeats VALUES(6,6,'2026-11-24 08:55:15');
INSERT INTO trial_heartbeats VALUES(7,7,'2026-11-24 08:55:16');
INSERT INTO trial_heartbeats VALUES(8,8,'2026-11-24 08:55:17');
INSERT INTO trial_heartbeats VALUES(9,9,'2026-11-24 08:55:19');
INSERT INTO trial_heartbeats VALUES(10,10,'2026-11-24 08:55:20');
INSERT INTO trial_heartbeats VALUES(11,11,'2026-11-24 08:55:22');
INSERT INTO trial_heartbeats VALUES(12,12,'2026-11-24 08:55:24');
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO alembic_version VALUES('v3.2.0.a');
CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
CREATE INDEX ix_trials_study_id ON trials (study_id);
COMMIT;
