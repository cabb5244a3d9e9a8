"""kamlab: key account management analytics for B2B suppliers (SAP ERP + CRM extracts)."""

from kamlab.config import Settings, load_settings
from kamlab.data.dataset import Dataset

__all__ = ["Dataset", "Settings", "__version__", "load_settings"]
__version__ = "0.1.0"
