# Messages of the activation pages.
