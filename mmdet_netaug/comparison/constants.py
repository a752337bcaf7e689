"""Names shared by the comparison's planning, running, results and report."""


ROLES = ('netaug', 'plain')
ROLE_TITLES = {'netaug': 'NetAug', 'plain': 'plain'}
DEFAULT_SEEDS = (0, 1, 2)
# the two reported metrics: short name -> default key in scalars.json
METRICS = ('mAP', 'AP50')
DEFAULT_KEYS = {'mAP': 'coco/bbox_mAP', 'AP50': 'coco/bbox_mAP_50'}
RUN_FILE, DONE_FILE, LOG_FILE = 'run.json', 'done.json', 'train.log'
# held (flock) by the sitting, and its training, that writes to a run folder
LOCK_FILE = '.lock'
# what a training writes after each checkpoint (mmengine's CheckpointHook)
LAST_CHECKPOINT = 'last_checkpoint'
# the held-out split of <stem>.json at a fraction p/q: file name templates
HOLDOUT_TRAIN_NAME = '{stem}_minus_holdout_{p}of{q}.json'
HOLDOUT_VAL_NAME = '{stem}_holdout_{p}of{q}.json'
