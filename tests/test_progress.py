"""Progress as people read it: the stage in words, how far, figures rounded; never a loss or raw digits."""

from mia_core.progress import Progress, in_words, stage_in_words


def test_stages_read_as_words():
    assert stage_in_words("target") == "Training the target"
    assert stage_in_words("shadow 2/8") == "Training shadow model 2 of 8"
    assert stage_in_words("reference 1/8 + reference 2/8 + reference 3/8") == "Training reference models 1-3 of 8"
    assert stage_in_words("attacks") == "Running the attacks"
    assert stage_in_words("something new") == "Something new"


def test_an_epoch_reads_as_a_sentence_with_rounded_figures():
    event = Progress("target", 44, 80, {"loss": 2.279, "train_acc": 0.1791, "epsilon": 2.99604761})
    assert in_words(event) == "Training the target · epoch 44 of 80 · training accuracy 18% · privacy spent ε = 3.00"
    assert in_words(Progress("attacks", 2, 9, {"loss_auc": 0.61234})) == "Running the attacks · attack 2 of 9"
