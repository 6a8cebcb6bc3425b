import inspect

from api.errors import STATUS, status_for
from pipeline import errors


def all_errors():
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.PonyError) and cls is not errors.PonyError
    ]


def test_every_error_has_its_own_stable_code():
    codes = [cls.code for cls in all_errors()]
    assert len(codes) == len(set(codes))


def test_every_error_maps_to_a_status_through_the_table():
    unmapped = [cls.__name__ for cls in all_errors() if not any(c in STATUS for c in cls.__mro__)]
    assert unmapped == []
    assert status_for(errors.InvalidMedia("x")) == 422
    assert status_for(errors.BrokerUnavailable("x")) == 503
    assert status_for(errors.UploadTooLarge("x")) == 413
