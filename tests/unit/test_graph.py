import pytest

from pipeline import graph
from pipeline.errors import InvalidPipeline, UnsupportedMedia
from pipeline.jobs import StepStatus
from pipeline.media.info import MediaKind


def doc(**steps):
    return {"steps": steps}


def test_a_plan_starts_with_the_probe_and_keeps_the_documents_steps():
    specs = graph.plan(doc(thumb={"op": "image.thumbnail", "use": ":original", "width": 100}))
    assert [s.name for s in specs] == ["probe", "thumb"]
    assert specs[1].params["width"] == 100
    assert specs[1].queue == "light"


@pytest.mark.parametrize(
    ("document", "words"),
    [
        (doc(a={"op": "nope.op", "use": ":original"}), "unknown op 'nope.op'"),
        (
            doc(a={"op": "image.thumbnail", "use": ":original", "wdth": 3}),
            "unknown parameter 'wdth'",
        ),
        (doc(a={"op": "image.thumbnail", "use": "b", "width": 3}), "uses 'b', which is not a step"),
        (doc(a={"op": "image.thumbnail", "width": 3}), 'has no "use"'),
        (
            doc(
                a={"op": "image.thumbnail", "use": "b", "width": 3},
                b={"op": "image.thumbnail", "use": "a", "width": 3},
            ),
            "cycle",
        ),
        (doc(probe={"op": "image.thumbnail", "use": ":original", "width": 3}), "reserved"),
        ({"stepz": {}}, '"steps" object'),
        (doc(**{"Bad Name": {"op": "image.thumbnail", "use": ":original"}}), "step name"),
    ],
)
def test_an_invalid_document_is_refused_with_words_naming_the_fault(document, words):
    with pytest.raises(InvalidPipeline) as caught:
        graph.plan(document)
    assert words in caught.value.message


def test_a_step_on_the_original_waits_for_the_probe_and_a_chained_step_for_its_input():
    specs = graph.plan(
        doc(
            poster={"op": "video.poster", "use": ":original"},
            thumb={"op": "image.thumbnail", "use": "poster", "width": 320},
        )
    )
    pending = {s.name: StepStatus.PENDING for s in specs}
    assert graph.ready(specs, pending) == ["probe"]
    after_probe = {**pending, "probe": StepStatus.SUCCEEDED}
    assert graph.ready(specs, after_probe) == ["poster"]
    after_poster = {**after_probe, "poster": StepStatus.SUCCEEDED}
    assert graph.ready(specs, after_poster) == ["thumb"]


def test_a_video_step_on_an_image_upload_is_refused_naming_the_step():
    specs = graph.parse_steps(doc(mp4={"op": "video.transcode", "use": ":original"}))
    with pytest.raises(UnsupportedMedia) as caught:
        graph.check_kind(specs, MediaKind.IMAGE)
    assert caught.value.step == "mp4"
    graph.check_kind(specs, MediaKind.VIDEO)
