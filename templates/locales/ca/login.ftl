# Messages of the login pages.
