import Foundation
print("lazarus: under construction")
