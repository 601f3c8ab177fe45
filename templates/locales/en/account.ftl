# Messages of the account pages.
