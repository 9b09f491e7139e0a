"""Documents the office produces from its data: data → one document model → DOCX and text.

- ``model``: the document model, plain dataclasses (no ORM, no rendering);
- ``notice`` (整改进展情况的通报) and ``report`` (整改报告): build a document from the ORM;
- ``docx`` (GB/T 9704 layout, python-docx) and ``text`` (plain text the importer reads back):
  the renderers, which see only the document model.
"""
