print("pickupbox")
